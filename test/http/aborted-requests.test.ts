/**
 * Clients that go away while the handler awaits. On uWS, touching an aborted
 * response throws (older builds kill the process: "invalid access of
 * discarded response"); the adapter must drop the late write instead, and
 * the server must keep answering. These tests run the server in the test
 * process: a crash fails them.
 *
 * On uWS a handler still waiting after its first turn has its connection
 * paused (see src/http/uws.ts: that is what keeps a pipelined request from
 * cutting off its answer). A paused connection is not watched at all, so
 * the client leaving is noticed only when the answer is written: the
 * handler is not told, its answer goes nowhere, uWS then closes the
 * connection. A client that only closed its sending side gets the answer.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { requireSession } from '../../examples/auth.ts';
import type { HttpExchange } from '../../src/http/exchange.ts';
import type { SessionManager } from '../../src/index.ts';
import { getWithCookie, login, overrideManager, SERVERS, startTestApp, type TestApp, jsonOf } from './app-fixture.ts';
import { openRaw } from './raw-http.ts';

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

/** Waits (bounded) until `observations` holds `count` entries; the handler first spends up to 10 000 turns in untilAborted. */
async function untilObserved(observations: Observation[], count: number): Promise<void> {
  for (let turn = 0; turn < 100_000 && observations.length < count; turn++) await nextTurn();
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
            // While gated, the synchronous cache-hit path answers nothing: the handler takes the awaited path above.
            peekSessionFromCookie: ((ctx: Parameters<SessionManager['peekSessionFromCookie']>[0]) => (gate ? undefined : manager.peekSessionFromCookie(ctx))) as never,
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

    // node: the handler sees the abort and its write is dropped. uWS: the paused connection does not hear of it, the
    // write goes out and is refused by the client's kernel; either way nothing crashes and the server keeps serving.
    const afterHangUp: Observation = server === 'node' ? { sawAbort: true, wrote: false } : { sawAbort: false, wrote: true };

    it('survives a client that reset the connection while the handler awaited the manager, and the late work still lands', async () => {
      let hasEntered!: Promise<void>;
      for (let round = 0; round < 5; round++) {
        hasEntered = new Promise((resolve) => (entered = resolve));
        gate = new Promise((resolve) => (release = resolve));
        const socket = await rawRequest(app.app.port, `GET /slow-profile HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
        await hasEntered;
        socket.resetAndDestroy();
        gate = null;
        release();
        // The server still answers, on a fresh connection.
        const response = await getWithCookie(app.url('/profile'), cookie);
        assert.equal(response.status, 200);
      }
      await untilObserved(observations, 5);
      assert.equal(observations.length, 5);
      for (const seen of observations) assert.deepEqual(seen, afterHangUp);
      observations.length = 0;
      // The work after the abort did land: only the response was dropped.
      const [session] = await app.manager.listForUser((await jsonOf(getWithCookie(app.url('/profile'), cookie))).user_id);
      assert.equal(session?.data.last_seen, 'after-abort');
    });

    it('survives a client that closed the connection (FIN) while the handler awaited the manager', async () => {
      const hasEntered = new Promise<void>((resolve) => (entered = resolve));
      gate = new Promise((resolve) => (release = resolve));
      const socket = await rawRequest(app.app.port, `GET /slow-profile HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
      await hasEntered;
      socket.destroy();
      gate = null;
      release();
      await untilObserved(observations, 1);
      assert.deepEqual(observations.splice(0), [afterHangUp]);
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
    });

    if (server === 'uws') {
      it('answers a client that closed its sending side (FIN) while the handler awaited, and keeps serving', async () => {
        const hasEntered = new Promise<void>((resolve) => (entered = resolve));
        gate = new Promise((resolve) => (release = resolve));
        const connection = await openRaw(app.app.port);
        await connection.write(`GET /slow-profile HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
        await hasEntered;
        connection.socket.end(); // half-close: nothing more to send, still reading
        gate = null;
        release();
        // The paused connection reads the FIN only after the answer: the handler wrote it, and it arrived.
        await untilObserved(observations, 1);
        assert.deepEqual(observations.splice(0), [{ sawAbort: false, wrote: true }]);
        const [response] = await connection.responsesOf(1);
        assert.equal(response?.status, 200);
        await connection.closed;
        assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
      });
    }

    it('survives a client that hangs up halfway through its body', async () => {
      for (let round = 0; round < 5; round++) {
        let started = false;
        const hasEntered = new Promise<void>((resolve) => (entered = () => ((started = true), resolve())));
        const socket = await rawRequest(app.app.port, 'POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":');
        if (server === 'node') {
          await hasEntered; // node runs the handler once the head is in
        } else {
          // uWS runs it only once the whole request is in: this one never is. Give the bytes time to land
          // (were they not read yet, the hang-up is simply earlier in the request; still a hang-up).
          await delay(20);
        }
        socket.destroy();
        const response = await getWithCookie(app.url('/profile'), cookie);
        assert.equal(response.status, 200);
        if (server === 'uws') assert.equal(started, false, 'the handler of an incomplete request never ran');
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
