/**
 * A regenerate() that rejects (a store outage mid-login) must not have the
 * end of the request store the login under the old id: whoever planted that
 * id (session fixation) would hold a logged-in session, while the client was
 * told the login failed. On Express 4, Express 5 and Fastify 5.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionManager } from '../../src/index.ts';
import { cookieOf, EXPRESS_KINDS, get, sessionState, startFrameworkApp, storeOutage, type FrameworkApp, type FrameworkKind } from './framework-fixture.ts';

/** The manager, with regenerate() failing as a store outage would. */
function failingRegenerate(manager: SessionManager): SessionManager {
  return new Proxy(manager, {
    get(target, property) {
      if (property === 'regenerate') return () => Promise.reject(storeOutage());
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

for (const kind of [...EXPRESS_KINDS, 'fastify'] as FrameworkKind[]) {
  describe(`a failed regenerate on ${kind}`, () => {
    let app: FrameworkApp;

    before(async () => {
      app = await startFrameworkApp({
        kind,
        wrapManager: failingRegenerate,
        routes: {
          express(server) {
            server.get('/t/visit', (req, res) => {
              req.session.data.visited = true;
              res.json({ ok: true });
            });
            server.get('/t/login-fails', async (req, res) => {
              req.session.userId = 'u-victim';
              req.session.data.user_id = 'u-victim';
              try {
                await req.session.regenerate();
                res.json({ ok: true });
              } catch {
                req.session.data.flash = 'please retry'; // a change after the failure is still saved, without the login
                res.status(503).json({ error: 'retry later' });
              }
            });
          },
          fastify(server) {
            server.get('/t/visit', async (request) => {
              request.session.data.visited = true;
              return { ok: true };
            });
            server.get('/t/login-fails', async (request, reply) => {
              request.session.userId = 'u-victim';
              request.session.data.user_id = 'u-victim';
              try {
                await request.session.regenerate();
                return { ok: true };
              } catch {
                request.session.data.flash = 'please retry';
                return reply.code(503).send({ error: 'retry later' });
              }
            });
          },
        },
      });
    });
    after(() => app.close());

    it('stores nothing of the login under the old id, even when the request changes the session after the failure', async () => {
      const visit = await get(app.url('/t/visit'));
      const planted = cookieOf(visit);
      assert.ok(planted, 'the visit stored a session');
      const login = await get(app.url('/t/login-fails'), planted);
      assert.equal(login.status, 503);
      await login.text();
      const state = await sessionState(app, planted);
      assert.equal(state.data.user_id, undefined, 'the old id holds no login');
      assert.equal(state.data.visited, true, 'and is otherwise as it was');
      assert.equal(state.data.flash, 'please retry', 'what the request changed after the failure is saved');
      const stored = await app.manager.load({ appendSetCookie() {} }, state.id!);
      assert.equal(stored.userId, null);
    });
  });
}
