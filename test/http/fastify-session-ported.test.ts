/**
 * @fastify/session's own test suite (test/session.test.js, base.test.js,
 * cookie.test.js), its cases that apply here, rewritten as behaviour tests
 * of ours on Fastify 5. Each test names the case it ports. Differences by
 * design: data lives in `request.session.data`; after destroy() the request
 * has a fresh session (not null); a cookie naming no session is left alone
 * rather than cleared (a request racing a login must not clear the cookie
 * the login just set); rolling is debounced by touchThreshold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FakeClock, HOUR, MINUTE } from '../helpers/manager.ts';
import { clearsCookie, cookieOf, get, post, sessionState, startFrameworkApp, storeOutage, type FrameworkApp } from './framework-fixture.ts';

const LIFETIME = HOUR;
const TOUCH = 5 * MINUTE;

function expiresOf(response: Response): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('rockstar_session='));
  return header?.match(/Expires=([^;]+)/)?.[1];
}

function routes(app: () => FrameworkApp) {
  return (server: FastifyInstance): void => {
    server.get('/set', async (request) => {
      request.session.data.someData = 'some-data';
      return { ok: true };
    });
    server.get('/get', async (request) => ({ someData: request.session.data.someData ?? null }));
    server.get('/destroy', async (request) => {
      await request.session.destroy();
      return { isNew: request.session.isNew, data: request.session.data };
    });
    server.get('/reload-unsaved', async (request) => {
      request.session.data.someData = 'some-data';
      await request.session.reload();
      return { someData: request.session.data.someData ?? null };
    });
    server.get('/save-reload', async (request) => {
      request.session.data.someData = 'some-data';
      await request.session.save();
      const afterSave = request.session.data.someData;
      await request.session.reload();
      return { afterSave, afterReload: request.session.data.someData };
    });
    server.get('/modified', async (request) => {
      request.session.data.userId = 42;
      const before = request.session.isModified();
      await request.session.save();
      return { before, after: request.session.isModified() };
    });
    server.get('/regenerate', async (request) => {
      const oldId = request.session.id;
      await request.session.regenerate();
      return { oldId, id: request.session.id };
    });
    server.get('/touch', async (request) => {
      await request.session.touch();
      return { expiresAt: request.session.expiresAt };
    });
    server.get('/rejections', async (request) => {
      const outcome: Record<string, string> = {};
      const failing = app().writes;
      request.session.data.fresh = 'change';
      failing.failure = storeOutage();
      try {
        for (const [name, call] of [
          ['save', () => request.session.save()],
          ['regenerate', () => request.session.regenerate()],
          ['destroy', () => request.session.destroy()],
        ] as const) {
          outcome[name] = await call().then(
            () => 'resolved',
            (error: { code?: string }) => `rejected ${error.code}`,
          );
        }
      } finally {
        failing.failure = null;
      }
      await app().manager.destroy(null, request.session.id ?? '');
      outcome.reload = await request.session.reload().then(
        () => 'resolved',
        (error: { code?: string }) => `rejected ${error.code}`,
      );
      return outcome;
    });
  };
}

for (const rolling of [true, false]) {
  describe(`@fastify/session's cases (rolling: ${rolling})`, () => {
    const clock = new FakeClock();
    let app: FrameworkApp;

    before(async () => {
      app = await startFrameworkApp({
        kind: 'fastify',
        session: { now: clock.read, sessionLifetime: LIFETIME, touchThreshold: TOUCH },
        sessionOptions: { rolling },
        routes: { fastify: routes(() => app) },
      });
    });
    after(() => app.close());

    it("'should add session object to request', on every route, the 404 one included", async () => {
      assert.deepEqual(await sessionState(app), { id: null, isNew: true, data: {} });
      const missing = await get(app.url('/nowhere'));
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.getSetCookie().length, 0);
    });

    it("'should not set session cookie on post without params' (Fastify's own 400 for an empty JSON body)", async () => {
      const response = await fetch(app.url('/t/data'), { method: 'POST', headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 400);
      assert.equal(response.headers.getSetCookie().length, 0);
    });

    it("'should set session cookie' and 'should keep user data in session throughout the time'", async () => {
      const first = await get(app.url('/set'));
      const cookie = cookieOf(first);
      assert.ok(cookie);
      for (let i = 0; i < 3; i++) assert.deepEqual(await (await get(app.url('/get'), cookie)).json(), { someData: 'some-data' });
    });

    it("'should not set session cookie if no data in session and saveUninitialized is false'", async () => {
      app.writes.reset();
      const response = await get(app.url('/get'));
      assert.equal(response.headers.getSetCookie().length, 0);
      assert.equal(app.writes.total, 0);
    });

    it("'should destroy the session': the request goes on with a fresh, empty session", async () => {
      const cookie = cookieOf(await get(app.url('/set')))!;
      const response = await get(app.url('/destroy'), cookie);
      assert.deepEqual(await response.json(), { isNew: true, data: {} });
      assert.ok(clearsCookie(response));
      assert.deepEqual(await (await get(app.url('/get'), cookie)).json(), { someData: null });
    });

    it("'should reload the session': unsaved changes are dropped", async () => {
      const cookie = cookieOf(await get(app.url('/t/session')));
      assert.equal(cookie, undefined);
      assert.deepEqual(await (await get(app.url('/reload-unsaved'))).json(), { someData: null });
      const stored = cookieOf(await post(app.url('/t/data'), { other: 1 }))!;
      app.writes.reset();
      const reloaded = await get(app.url('/reload-unsaved'), stored);
      assert.deepEqual(await reloaded.json(), { someData: null });
      assert.equal(app.writes.update, 0, 'nothing was left to save');
    });

    it("'should save the session' (a reload after a save keeps the data)", async () => {
      const response = await get(app.url('/save-reload'));
      assert.deepEqual(await response.json(), { afterSave: 'some-data', afterReload: 'some-data' });
      assert.ok(cookieOf(response));
    });

    it("'when rolling is false, only save session when it changes, but not if manually saved': isModified, one write", async () => {
      app.writes.reset();
      const response = await get(app.url('/modified'));
      assert.deepEqual(await response.json(), { before: true, after: false });
      assert.deepEqual([app.writes.insert, app.writes.update], [1, 1], 'the explicit save only (a new session: insert, then its data)');
      assert.equal(typeof response.headers.getSetCookie()[0], 'string');
    });

    it("'should generate new sessionId' and 'regenerate destroys the previous session in the store'", async () => {
      const cookie = cookieOf(await get(app.url('/set')))!;
      const response = await get(app.url('/regenerate'), cookie);
      const { oldId, id } = (await response.json()) as { oldId: string; id: string };
      assert.notEqual(id, oldId);
      assert.equal(await app.manager.isValid(oldId), false);
      assert.equal(await app.manager.isValid(id), true);
      assert.deepEqual(await (await get(app.url('/get'), cookieOf(response))).json(), { someData: 'some-data' });
    });

    it("'save/regenerate/destroy/reload support rejecting promises': each rejects with the store's failure, and the reply is the route's", async () => {
      const cookie = cookieOf(await get(app.url('/set')))!;
      const response = await get(app.url('/rejections'), cookie);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), {
        save: 'rejected ERR_SESSION_STORE',
        regenerate: 'rejected ERR_SESSION_STORE',
        destroy: 'rejected ERR_SESSION_STORE',
        reload: 'rejected ERR_SESSION_NOT_FOUND',
      });
    });

    it(`'when rolling is ${rolling}': an unchanged session ${rolling ? 'is refreshed once touchThreshold has passed' : 'is never saved again'}`, async () => {
      const first = await get(app.url('/set'));
      const cookie = cookieOf(first)!;
      app.writes.reset();
      const soon = await get(app.url('/get'), cookie);
      assert.equal(soon.headers.getSetCookie().length, 0);
      clock.advance(TOUCH + MINUTE);
      const later = await get(app.url('/get'), cookie);
      if (rolling) {
        assert.ok(cookieOf(later));
        assert.notEqual(expiresOf(later), expiresOf(first), 'the expiry slid');
        assert.deepEqual([app.writes.touch, app.writes.update], [1, 0]);
      } else {
        assert.equal(later.headers.getSetCookie().length, 0, "'should not reset session cookie expiration if rolling is false'");
        assert.equal(app.writes.total, 0);
      }
    });

    it("'should update the expires property of the session using Session#touch() even if rolling is false'", async () => {
      const cookie = cookieOf(await get(app.url('/set')))!;
      clock.advance(TOUCH + MINUTE);
      const response = await get(app.url('/touch'), cookie);
      assert.ok(cookieOf(response));
      assert.equal(new Date(((await response.json()) as { expiresAt: string }).expiresAt).getTime(), clock.now + LIFETIME);
    });

    it("'should create new session on expired session', '…if does not exist in store', '…if cookie contains invalid session'", async () => {
      const expired = cookieOf(await get(app.url('/set')))!;
      const gone = cookieOf(await get(app.url('/set')))!;
      await app.manager.destroy(null, (await sessionState(app, gone)).id!);
      clock.advance(LIFETIME + MINUTE);
      for (const cookie of [expired, gone, 'rockstar_session=badinvalidsignaturenoooo']) {
        const response = await get(app.url('/set'), cookie);
        const renewed = cookieOf(response);
        assert.ok(renewed && renewed !== cookie, 'a new session with a new cookie');
      }
    });

    it("'does not clear cookie if no session cookie in request', and (unlike @fastify/session) leaves a dead cookie alone", async () => {
      assert.equal((await get(app.url('/get'), 'someOtherCookie=foobar')).headers.getSetCookie().length, 0);
      // A dead cookie may be a request racing a login: clearing it could wipe the cookie the login just set.
      assert.equal((await get(app.url('/get'), 'rockstar_session=dead')).headers.getSetCookie().length, 0);
    });
  });
}

describe("@fastify/session's cookie cases", () => {
  let app: FrameworkApp;
  const clock = new FakeClock();
  before(async () => {
    app = await startFrameworkApp({
      kind: 'fastify',
      session: { now: clock.read, cookieName: 'sessionId', cookiePath: '/admin', cookieDomain: 'domain.test', cookieSecure: true, cookieHttpOnly: false, cookieSameSite: 'None', sessionLifetime: 10 * MINUTE },
      routes: {
        fastify(server) {
          server.get('/admin', async (request, reply) => {
            request.session.data.test = {};
            void reply.header('set-cookie', 'other=1; Path=/');
            return { ok: true };
          });
          server.get('/admin/logout', async (request) => {
            await request.session.destroy();
            return { ok: true };
          });
        },
      },
    });
  });
  after(() => app.close());

  it("'should set session cookie with sameSite / another path / domain / non HttpOnly / secure / maxAge / expires'", async () => {
    const response = await get(app.url('/admin'));
    const ours = response.headers.getSetCookie().find((c) => c.startsWith('sessionId='));
    assert.ok(ours);
    const attributes = ours.split(';').slice(1).map((a) => a.trim());
    for (const expected of ['Path=/admin', 'Domain=domain.test', 'Secure', 'SameSite=None', `Max-Age=${(10 * MINUTE) / 1000}`]) {
      assert.ok(attributes.includes(expected), `${expected} in ${ours}`);
    }
    assert.ok(!attributes.includes('HttpOnly'));
    assert.ok(attributes.some((a) => a.startsWith('Expires=')));
    assert.deepEqual(response.headers.getSetCookie().map((c) => c.split('=')[0]).sort(), ['other', 'sessionId'], "the application's own cookie stays");
  });

  it("'clearing cookie sets the domain / the path if specified in the cookie options'", async () => {
    const cookie = cookieOf(await get(app.url('/admin')), 'sessionId')!;
    const response = await get(app.url('/admin/logout'), cookie);
    const clearing = response.headers.getSetCookie().find((c) => c.startsWith('sessionId=;'));
    assert.ok(clearing);
    assert.match(clearing, /Max-Age=0/);
    assert.match(clearing, /Domain=domain\.test/);
    assert.match(clearing, /Path=\/admin/);
  });
});
