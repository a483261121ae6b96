/**
 * How failures reach the client: an overloaded engine is a 503 with
 * Retry-After, and so is a store outage; bad session data a 400; anything
 * unexpected a 500 whose body
 * says nothing of the cause, which goes to the log instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionDataError, SessionOverloadedError, SessionStoreError, type SessionContext } from '../../src/index.ts';
import { getWithCookie, login, overrideManager, SERVERS, startTestApp, type TestApp, jsonOf } from './app-fixture.ts';

const SECRET_DETAIL = 'connect ECONNREFUSED 10.1.2.3:3306 as root@/var/lib/secret';

for (const server of SERVERS) {
  describe(`failure responses on ${server}`, () => {
    let app: TestApp;
    let cookie: string;
    let failure: Error | null = null;

    before(async () => {
      app = await startTestApp({
        server,
        wrapManager: (manager) =>
          overrideManager(manager, {
            getSessionFromCookie: (async (ctx: SessionContext) => {
              if (failure) throw failure;
              return manager.getSessionFromCookie(ctx);
            }) as never,
            // While a failure is injected, the synchronous cache-hit path has nothing to answer: every request takes the one above.
            peekSessionFromCookie: ((ctx: SessionContext) => (failure ? undefined : manager.peekSessionFromCookie(ctx))) as never,
          }),
        routes: (manager) => [
          { method: 'GET', path: '/throws-sync', handler: () => { throw new Error(SECRET_DETAIL); } },
          { method: 'GET', path: '/no-answer', handler: async () => {} },
          {
            method: 'POST',
            path: '/bad-data',
            handler: async (exchange) => {
              const session = await manager.getSessionFromCookie(exchange.ctx);
              await manager.set(session.id, 'fn', () => 1);
              exchange.json(200, {});
            },
          },
        ],
      });
      cookie = await login(app);
    });
    after(() => app.close());

    it('answers an overloaded engine with 503 and Retry-After', async () => {
      failure = new SessionOverloadedError('crypto queue is full');
      try {
        const response = await getWithCookie(app.url('/profile'), cookie);
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('retry-after'), '1');
        assert.deepEqual(await response.json(), { error: 'overloaded, retry later', code: 'ERR_SESSION_OVERLOADED' });
      } finally {
        failure = null;
      }
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200, 'and recovers when the load passes');
    });

    it('answers a store failure with 503, Retry-After and a generic body, and logs the detail', async () => {
      failure = new SessionStoreError(`session store find failed: ${SECRET_DETAIL}`);
      const logged = app.logged.length;
      try {
        const response = await getWithCookie(app.url('/profile'), cookie);
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('retry-after'), '1');
        const text = await response.text();
        assert.deepEqual(JSON.parse(text), { error: 'session store unavailable, retry later', code: 'ERR_SESSION_STORE' });
        assert.doesNotMatch(text, /ECONNREFUSED|secret|3306/);
      } finally {
        failure = null;
      }
      assert.equal(app.logged.length, logged + 1);
      assert.equal((app.logged.at(-1)!.error as Error).message.includes(SECRET_DETAIL), true);
      assert.deepEqual(app.logged.at(-1)!.request, { method: 'GET', path: '/profile' });
    });

    it('answers a synchronous throw and a handler that never answered with 500', async () => {
      for (const path of ['/throws-sync', '/no-answer']) {
        const response = await fetch(app.url(path));
        assert.equal(response.status, 500, path);
        assert.deepEqual(await response.json(), { error: 'internal server error' });
      }
    });

    it('answers unstorable session data with 400', async () => {
      const response = await fetch(app.url('/bad-data'), { method: 'POST', headers: { cookie } });
      assert.equal(response.status, 400);
      assert.equal((await jsonOf(response)).code, 'ERR_SESSION_DATA');
    });

    it('answers 404 for unknown routes', async () => {
      const response = await fetch(app.url('/nowhere'));
      assert.equal(response.status, 404);
    });
  });

  describe(`a saturated crypto pool on ${server}`, () => {
    let app: TestApp;

    before(async () => {
      // One worker and room for one queued operation: a burst of logins cannot all fit.
      app = await startTestApp({ server, session: { crypto: { mode: 'pool', threads: 1, maxQueue: 1 } } });
    });
    after(() => app.close());

    it('sheds a burst with 503 + Retry-After and serves what fits', async () => {
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          fetch(app.url('/login'), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: `burst-${i}`, password: 'rockstar' }),
          }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 200 || s === 503), `only 200 and 503: ${statuses.join(',')}`);
      assert.ok(statuses.includes(503), 'the burst overflowed the queue');
      for (const response of responses.filter((r) => r.status === 503)) assert.equal(response.headers.get('retry-after'), '1');
      assert.deepEqual(app.logged, []);
    });
  });
}

it('keeps SessionDataError a 400 and not a logged failure', async () => {
  const { responseForError } = await import('../../src/http/errors-to-status.ts');
  assert.equal(responseForError(new SessionDataError('x')).status, 400);
  assert.equal(responseForError(new SessionDataError('x')).log, false);
});
