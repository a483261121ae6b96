/**
 * Pipelined requests (several sent on one connection before the first is
 * answered), to handlers that await real I/O on the filesystem store.
 *
 * The invariant, on both servers: no handler runs unless its response is
 * delivered. So after the connection is done, the requests that were
 * answered are exactly the ones whose work was applied, and each was
 * answered once, in order. node:http answers every pipelined request in
 * order. uWS cannot answer a request pipelined behind a pending one (it
 * closes the connection when it parses it): requests that arrive together
 * are refused before any handler runs, and a request sent while an earlier
 * one waits on I/O is held until that one is answered, then served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { requireSession } from '../../examples/auth.ts';
import type { SessionManager } from '../../src/index.ts';
import { jsonOf, getWithCookie, login, SERVERS, startTestApp, storeSetup, type StoreSetup, type TestApp } from './app-fixture.ts';
import { openRaw, rawRequest, type RawResponse } from './raw-http.ts';

/** Counts the manager calls still running, so a test can wait for a handler cut off mid-write to finish its work. */
function countingInFlight(manager: SessionManager): { manager: SessionManager; settled(): Promise<void> } {
  let running = 0;
  const counted = new Proxy(manager, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (result instanceof Promise) {
          running++;
          result.then(
            () => running--,
            () => running--,
          );
        }
        return result;
      };
    },
  });
  return {
    manager: counted,
    async settled() {
      // A few turns for handlers to reach the manager, then until nothing runs (bounded).
      for (let turn = 0; turn < 10; turn++) await nextTurn();
      for (let wait = 0; wait < 500 && running > 0; wait++) await delay(2);
    },
  };
}

function addItem(cookie: string, productId: string): string {
  return rawRequest('POST', '/cart/items', [['Cookie', cookie], ['Content-Type', 'application/json']], JSON.stringify({ productId }));
}

let settled: () => Promise<void> = async () => {};

/** The cart, once every handler that ran has finished its work. */
async function cartOf(app: TestApp, cookie: string): Promise<string[]> {
  await settled();
  return (await jsonOf(getWithCookie(app.url('/cart'), cookie))).items;
}

/** Sends `requests` in one write, reads until the server has answered all of them or closed the connection. */
async function pipeline(app: TestApp, requests: string[]): Promise<RawResponse[]> {
  const connection = await openRaw(app.app.port);
  try {
    await connection.write(requests.join(''));
    await connection.responsesOf(requests.length).catch(() => {}); // a close is an outcome, checked by the caller
    return [...connection.responses];
  } finally {
    connection.end();
  }
}

for (const server of SERVERS) {
  describe(`pipelined requests on ${server} over the filesystem store`, () => {
    let app: TestApp;
    let store: StoreSetup;
    /** The gated route waits here, so a test can send more while it is mid-request. */
    let gate: Promise<void> = Promise.resolve();
    let release: () => void = () => {};
    let entered: () => void = () => {};

    before(async () => {
      const setup = await storeSetup('filesystem');
      if ('skip' in setup) throw new Error(setup.skip);
      store = setup;
      app = await startTestApp({
        server,
        session: setup.config,
        wrapManager: (manager) => {
          const counting = countingInFlight(manager);
          settled = counting.settled;
          return counting.manager;
        },
        routes: (manager) => [
          {
            method: 'POST',
            path: '/gated/cart/items',
            handler: requireSession(manager, async (exchange, session) => {
              const { productId } = await exchange.readFields();
              entered();
              await gate;
              const items = await manager.update(session.id, 'cart', (cart) => [...(Array.isArray(cart) ? cart : []), productId], exchange.ctx);
              exchange.json(200, { items });
            }),
          },
        ],
      });
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    /**
     * The invariant: the answered requests are exactly those applied, once each, and response i answers request i.
     * (node:http runs pipelined handlers concurrently, so the order in which they land is theirs to choose.)
     */
    function assertAnsweredIsApplied(responses: RawResponse[], sent: string[], cart: string[], before: string[]): void {
      assert.ok(responses.length <= sent.length, 'never more responses than requests');
      for (const [i, response] of responses.entries()) {
        assert.equal(response.status, 200, `response ${i}`);
        assert.ok((response.json() as { items: string[] }).items.includes(sent[i] as string), `response ${i} answers request ${i}`);
      }
      assert.deepEqual(cart.slice(0, before.length), before);
      assert.deepEqual(cart.slice(before.length).sort(), sent.slice(0, responses.length).sort(), 'applied exactly the answered requests, once each');
    }

    it('never applies a pipelined cart write without answering it: two, three and five requests in one write', async () => {
      const cookie = await login(app, `pipeline-${server}`);
      for (const count of [2, 3, 5]) {
        const before = await cartOf(app, cookie);
        const sent = Array.from({ length: count }, (_, i) => `p${count}-${i}`);
        const responses = await pipeline(
          app,
          sent.map((id) => addItem(cookie, id)),
        );
        assertAnsweredIsApplied(responses, sent, await cartOf(app, cookie), before);
        // node:http answers them all; uWS refuses them all, before any handler ran.
        assert.equal(responses.length, server === 'node' ? count : 0);
      }
    });

    it('never runs a login unanswered when a cart write is pipelined behind it', async () => {
      const username = `pipeline-login-${server}`;
      const cookie = await login(app, username);
      const before = await cartOf(app, cookie);
      const responses = await pipeline(app, [
        rawRequest('POST', '/login', [['Cookie', cookie], ['Content-Type', 'application/json']], JSON.stringify({ username, password: 'rockstar' })),
        addItem(cookie, 'after-login'),
      ]);
      if (server === 'uws') {
        // Refused before anything ran: no regenerate (the old cookie still works), the cart untouched.
        assert.equal(responses.length, 0);
        assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
        assert.deepEqual(await cartOf(app, cookie), before);
        return;
      }
      // node:http runs both (concurrently) and answers both, in order.
      assert.equal(responses.length, 2);
      assert.equal(responses[0]?.status, 200);
      const renewed = responses[0]?.headers.find(([name, value]) => name === 'set-cookie' && value.startsWith('rockstar_session='))?.[1].split(';')[0];
      assert.ok(renewed, 'the login set a new cookie');
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 401, 'the login regenerated the session');
      const added = responses[1]?.status === 200;
      if (!added) assert.equal(responses[1]?.status, 401, 'the cart write either landed or was refused with the old id');
      assert.equal((await cartOf(app, renewed)).includes('after-login'), added, 'the cart write was applied exactly when it was answered 200');
    });

    /** Sends one gated request, then `behind` more while its handler waits; returns what came back. */
    async function behindAWaitingRequest(cookie: string, label: string, behind: number): Promise<{ sent: string[]; responses: RawResponse[] }> {
      const hasEntered = new Promise<void>((resolve) => (entered = resolve));
      gate = new Promise((resolve) => (release = resolve));
      const connection = await openRaw(app.app.port);
      try {
        const sent = [`${label}-0`];
        await connection.write(rawRequest('POST', '/gated/cart/items', [['Cookie', cookie], ['Content-Type', 'application/json']], JSON.stringify({ productId: sent[0] })));
        await hasEntered;
        // The first handler is mid-request: send more behind it, one write each, and give the server time to read them.
        for (let i = 1; i <= behind; i++) {
          sent.push(`${label}-${i}`);
          await connection.write(addItem(cookie, `${label}-${i}`));
        }
        for (let turn = 0; turn < 20; turn++) await nextTurn();
        await delay(20);
        release();
        await connection.responsesOf(sent.length).catch(() => {}); // a close is an outcome, checked by the caller
        return { sent, responses: [...connection.responses] };
      } finally {
        gate = Promise.resolve();
        connection.end();
      }
    }

    it('answers, in order, a request sent while the one before it waits on I/O', async () => {
      const cookie = await login(app, `pipeline-held-${server}`);
      for (let round = 0; round < 3; round++) {
        const before = await cartOf(app, cookie);
        const { sent, responses } = await behindAWaitingRequest(cookie, `held-${round}`, 1);
        assert.equal(responses.length, 2);
        assertAnsweredIsApplied(responses, sent, await cartOf(app, cookie), before);
      }
    });

    it('answers the waiting request and never runs unanswered ones when several queue up behind it', async () => {
      const cookie = await login(app, `pipeline-queue-${server}`);
      const before = await cartOf(app, cookie);
      const { sent, responses } = await behindAWaitingRequest(cookie, 'queued', 3);
      assertAnsweredIsApplied(responses, sent, await cartOf(app, cookie), before);
      // uWS reads the three held requests together once the first is answered, and refuses them unrun.
      assert.equal(responses.length, server === 'node' ? 4 : 1);
    });

    it('still serves a plain request on a fresh connection, and logged no failure', async () => {
      const cookie = await login(app, `pipeline-after-${server}`);
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
      assert.deepEqual(app.logged, []);
    });
  });
}
