/**
 * Express 4 ignores the promises its middleware and handlers return, so one
 * rejection nobody handles is an 'unhandledRejection' (by default, a crash:
 * the issue saw `curl: (52) Empty reply` from one garbage cookie). Nothing
 * the session middleware does may leave one: garbage cookies, a store that
 * cannot be read or written, a closed manager, an onError that throws. Every
 * case gets an answer and the server goes on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cookieOf, EXPRESS_KINDS, get, loginTo, post, startFrameworkApp, storeOutage, type FrameworkApp } from './framework-fixture.ts';

for (const kind of EXPRESS_KINDS) {
  describe(`no unhandled rejection on ${kind}`, () => {
    let app: FrameworkApp;
    let loadFailure: Error | null = null;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

    before(async () => {
      process.on('unhandledRejection', onUnhandled);
      app = await startFrameworkApp({
        kind,
        loadFailure: () => loadFailure,
        sessionOptions: {
          onError: () => {
            throw new Error('an onError that throws');
          },
        },
        routes: {
          express(server) {
            // The obvious async handler, as an Express 4 user writes it (no try/catch, no next(error)).
            server.get('/async', async (req, res) => {
              await new Promise((resolve) => setImmediate(resolve));
              req.session.data.visits = ((req.session.data.visits as number | undefined) ?? 0) + 1;
              res.json({ visits: req.session.data.visits });
            });
            server.get('/explicit-save', async (req, res) => {
              req.session.data.saved = true;
              try {
                await req.session.save();
                res.json({ saved: true });
              } catch (error) {
                res.status(503).json({ caught: (error as { code?: string }).code });
              }
            });
          },
        },
      });
    });
    after(async () => {
      process.off('unhandledRejection', onUnhandled);
      await app.close();
    });

    it('answers garbage cookies, outages and failing saves, and nothing goes unhandled', async () => {
      for (const cookie of ['rockstar_session=garbage', 'rockstar_session=' + 'A'.repeat(200), 'a=b; rockstar_session=%ZZ']) {
        const response = await get(app.url('/async'), cookie);
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { visits: 1 });
      }
      const cookie = await loginTo(app, 'steady');
      loadFailure = storeOutage();
      try {
        assert.equal((await get(app.url('/async'), cookie)).status, 503);
      } finally {
        loadFailure = null;
      }
      app.writes.failure = storeOutage();
      try {
        assert.equal((await get(app.url('/async'), cookie)).status, 503, 'a failed automatic save');
        const explicit = await get(app.url('/explicit-save'), cookie);
        assert.deepEqual(await explicit.json(), { caught: 'ERR_SESSION_STORE' }, 'an explicit save rejects to the caller');
        assert.equal((await post(app.url('/login'), { username: 'new', password: 'rockstar' })).status, 503, 'a failed first save');
      } finally {
        app.writes.failure = null;
      }
      const healthy = await get(app.url('/async'), cookie);
      assert.equal(healthy.status, 200);
      assert.ok(cookieOf(healthy));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    });

    it('answers 503 once the manager is closed, and nothing goes unhandled', async () => {
      const cookie = await loginTo(app, 'late');
      await app.manager.close();
      const withCookie = await get(app.url('/async'), cookie);
      assert.equal(withCookie.status, 503);
      assert.equal(((await withCookie.json()) as { code: string }).code, 'ERR_SESSION_CLOSED');
      const fresh = await get(app.url('/async'));
      assert.equal(fresh.status, 503, 'a new session cannot be stored either');
      assert.equal((await get(app.url('/t/session'))).status, 200, 'a request that stores nothing is served');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    });
  });
}
