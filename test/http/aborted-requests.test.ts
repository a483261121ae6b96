/**
 * Clients that go away while the handler awaits. On uWS, touching an aborted
 * response kills the process ("invalid access of discarded response"); the
 * adapter must drop the late write instead, and the server must keep
 * answering. These tests run the server in the test process: a crash fails them.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { requireSession } from '../../examples/auth.ts';
import type { HttpExchange } from '../../src/http/exchange.ts';
import type { SessionManager } from '../../src/index.ts';
import { getWithCookie, login, overrideManager, SERVERS, startTestApp, type TestApp, jsonOf } from './app-fixture.ts';

/** Waits (bounded) until the server has seen the client leave. */
async function untilAborted(exchange: HttpExchange): Promise<boolean> {
  for (let turn = 0; turn < 10_000 && !exchange.aborted; turn++) await nextTurn();
  return exchange.aborted;
}

function rawRequest(port: number, text: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

interface Observation {
  sawAbort: boolean;
  wrote: boolean;
}

for (const server of SERVERS) {
  describe(`clients aborting mid-request on ${server}`, () => {
    let app: TestApp;
    let cookie: string;
    /** Resolves when the slow handler has started; the test then hangs up. */
    let entered: () => void = () => {};
    const observations: Observation[] = [];
    /** Holds getSessionFromCookie until released, so the handler is mid-await when the client leaves. */
    let gate: Promise<void> | null = null;
    let release: () => void = () => {};

    before(async () => {
      app = await startTestApp({
        server,
        wrapManager: (manager) =>
          overrideManager(manager, {
            getSessionFromCookie: (async (ctx: Parameters<SessionManager['getSessionFromCookie']>[0]) => {
              if (gate) {
                entered();
                await gate;
              }
              return manager.getSessionFromCookie(ctx);
            }) as never,
          }),
        routes: (manager) => [
          {
            method: 'GET',
            path: '/slow-profile',
            handler: requireSession(manager, async (exchange, session) => {
              const sawAbort = await untilAborted(exchange);
              // The handler carries on with session work after the client left, then answers: the write must be dropped.
              await manager.set(session.id, 'last_seen', 'after-abort');
              const wrote = exchange.json(200, { user_id: session.data.user_id });
              observations.push({ sawAbort, wrote });
            }),
          },
          {
            method: 'POST',
            path: '/slow-body',
            handler: async (exchange) => {
              entered();
              const body = await exchange.readBody();
              exchange.json(200, { bytes: body.length });
            },
          },
        ],
      });
      cookie = await login(app);
    });
    after(() => app.close());

    it('drops the late response of a handler whose client hung up while it awaited the manager', async () => {
      let hasEntered!: Promise<void>;
      for (let round = 0; round < 5; round++) {
        hasEntered = new Promise((resolve) => (entered = resolve));
        gate = new Promise((resolve) => (release = resolve));
        const socket = await rawRequest(app.app.port, `GET /slow-profile HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
        await hasEntered;
        socket.destroy();
        gate = null;
        release();
        // The server still answers, on a fresh connection.
        const response = await getWithCookie(app.url('/profile'), cookie);
        assert.equal(response.status, 200);
      }
      for (let turn = 0; turn < 10_000 && observations.length < 5; turn++) await nextTurn();
      assert.equal(observations.length, 5);
      for (const seen of observations) assert.deepEqual(seen, { sawAbort: true, wrote: false });
      // The work after the abort did land: only the response was dropped.
      const [session] = await app.manager.listForUser((await jsonOf(getWithCookie(app.url('/profile'), cookie))).user_id);
      assert.equal(session?.data.last_seen, 'after-abort');
    });

    it('survives a client that hangs up halfway through its body', async () => {
      for (let round = 0; round < 5; round++) {
        const hasEntered = new Promise<void>((resolve) => (entered = resolve));
        const socket = await rawRequest(app.app.port, 'POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":');
        await hasEntered;
        socket.destroy();
        const response = await getWithCookie(app.url('/profile'), cookie);
        assert.equal(response.status, 200);
      }
    });

    it('survives a burst of requests abandoned at random points', async () => {
      const sockets = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          rawRequest(
            app.app.port,
            i % 2 === 0
              ? `GET /profile HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`
              : `POST /cart/items HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"productId":`,
          ),
        ),
      );
      for (const socket of sockets) socket.destroy();
      const responses = await Promise.all(Array.from({ length: 10 }, () => getWithCookie(app.url('/profile'), cookie)));
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(10).fill(200),
      );
    });

    it('logged no server failure for the abandoned requests', () => {
      assert.deepEqual(app.logged, []);
    });
  });
}
