/**
 * The behaviour every framework integration must show, on every store:
 * the example's whole flow, writes only when something changed, concurrent
 * changes merged, bad cookies as fresh sessions, outages as 503, regenerate
 * and destroy. express-session-behaviour.test.ts and
 * fastify-session-behaviour.test.ts run it for Express 4, Express 5 and
 * Fastify 5.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSessionManager, type StorageType } from '../../src/index.ts';
import {
  clearsCookie,
  cookieOf,
  frameworkAppPerSuite,
  get,
  loginTo,
  post,
  sessionState,
  storeOutage,
  STORES,
  uniqueUsername,
  type FrameworkKind,
  type SuiteFrameworkApp,
} from './framework-fixture.ts';

function tamper(cookie: string): string {
  const [name, value = ''] = cookie.split('=');
  const at = Math.floor(value.length / 2);
  return `${name}=${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
}

export function describeSessionBehaviour(kind: FrameworkKind): void {
  for (const storageType of STORES) describeOnStore(kind, storageType);
  describeLoadOutage(kind);
}

function describeOnStore(kind: FrameworkKind, storageType: StorageType): void {
  describe(`${kind} sessions over the ${storageType} store`, () => {
    const suite: SuiteFrameworkApp = frameworkAppPerSuite(kind, storageType);
    const user = (name: string): string => uniqueUsername(name, `${kind}-${storageType}`);

    it('runs the example: login, profile, cart, logout', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      assert.equal((await get(app.url('/profile'))).status, 401, 'no session, no profile');
      const cookie = await loginTo(app, user('ada'));
      const profile = await get(app.url('/profile'), cookie);
      assert.equal(profile.status, 200);
      const body = (await profile.json()) as { username: string; user_id: string; login_time: string };
      assert.equal(body.username, user('ada'));
      assert.match(body.user_id, /^u-[0-9a-f]{16}$/);
      assert.ok(!Number.isNaN(Date.parse(body.login_time)), 'login_time comes back as a date');

      for (const productId of ['sku-1', 42]) {
        const added = await post(app.url('/cart/items'), { productId }, cookie);
        assert.equal(added.status, 200);
        await added.arrayBuffer();
      }
      // A form body, as curl -d sends it.
      const form = await fetch(app.url('/cart/items'), { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'productId=from-form' });
      assert.deepEqual(await form.json(), { items: ['sku-1', 42, 'from-form'] });
      assert.deepEqual(await (await get(app.url('/cart'), cookie)).json(), { items: ['sku-1', 42, 'from-form'] });
      const cleared = await fetch(app.url('/cart'), { method: 'DELETE', headers: { cookie } });
      assert.deepEqual(await cleared.json(), { items: [] });
      assert.deepEqual(await (await get(app.url('/cart'), cookie)).json(), { items: [] });

      // The login recorded the user on the session: "log out everywhere" can find it.
      assert.ok((await app.manager.listForUser(body.user_id)).length >= 1);

      const logout = await post(app.url('/logout'), {}, cookie);
      assert.equal(logout.status, 200);
      assert.ok(clearsCookie(logout), 'logout clears the cookie');
      assert.equal((await get(app.url('/profile'), cookie)).status, 401, 'the old cookie is dead');
      assert.deepEqual(app.logged, []);
    });

    it('answers a wrong password 401 and missing fields 400, storing nothing', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      app.writes.reset();
      const wrong = await post(app.url('/login'), { username: user('eve'), password: 'nope' });
      assert.equal(wrong.status, 401);
      assert.equal(cookieOf(wrong), undefined);
      const missing = await post(app.url('/login'), { username: user('eve') });
      assert.equal(missing.status, 400);
      assert.equal(app.writes.total, 0);
    });

    it('writes nothing and sets no cookie for a request that changed nothing', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('reader'));
      app.writes.reset();
      for (const path of ['/profile', '/cart', '/t/session']) {
        const response = await get(app.url(path), cookie);
        assert.equal(response.status, 200, path);
        assert.equal(cookieOf(response), undefined, `${path} sets no cookie`);
        assert.match(response.headers.get('vary') ?? '', /cookie/i, `${path} varies on Cookie`);
        await response.arrayBuffer();
      }
      assert.equal(app.writes.total, 0, 'no store write');
      // And a visitor without a session is not given one.
      const anonymous = await get(app.url('/t/session'));
      assert.deepEqual(await anonymous.json(), { id: null, isNew: true, data: {} });
      assert.equal(anonymous.headers.getSetCookie().length, 0);
      assert.equal(app.writes.total, 0, 'an empty session is never stored');
    });

    it('writes exactly once, and re-issues the cookie, for a request that changed data', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('writer'));
      app.writes.reset();
      const response = await post(app.url('/t/data'), { theme: 'dark', nested: { list: [1, 2] } }, cookie);
      assert.equal(response.status, 200);
      const next = cookieOf(response);
      assert.ok(next && next !== cookie, 'a new cookie (it carries the version written)');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.deepEqual({ ...app.writes, failure: undefined }, { insert: 0, update: 1, touch: 0, delete: 0, failure: undefined });
      assert.deepEqual((await sessionState(app, next)).data.nested, { list: [1, 2] });
      // A nested change counts as a change.
      app.writes.reset();
      await (await post(app.url('/t/data'), { nested: { list: [1, 2, 3] } }, next)).arrayBuffer();
      assert.equal(app.writes.update, 1);
      // And writing the same values again is no change.
      app.writes.reset();
      const same = await post(app.url('/t/data'), { theme: 'dark' }, next);
      assert.equal(cookieOf(same), undefined);
      assert.equal(app.writes.total, 0);
    });

    it('keeps both of two concurrent requests that change different keys', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('racer'));
      // Both requests read the session first, then change it: the second save merges onto the first.
      const keys = ['alpha', 'beta', 'gamma', 'delta'];
      const responses = await Promise.all(keys.map((key, i) => post(app.url('/t/data-later'), { key, value: i, delayMs: 20 }, cookie)));
      assert.deepEqual(responses.map((r) => r.status), keys.map(() => 200));
      const { data } = await sessionState(app, cookie);
      assert.deepEqual(keys.map((key) => data[key]), [0, 1, 2, 3]);
      assert.equal(data.username, user('racer'), 'and the login data is intact');
    });

    it('keeps every one of 40 concurrent cart additions (atomic update)', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('shopper'));
      const ids = Array.from({ length: 40 }, (_, i) => `p-${i}`);
      const responses = await Promise.all(ids.map((productId) => post(app.url('/cart/items'), { productId }, cookie)));
      assert.deepEqual(responses.map((r) => r.status), ids.map(() => 200));
      const { items } = (await (await get(app.url('/cart'), cookie)).json()) as { items: string[] };
      assert.deepEqual([...items].sort(), [...ids].sort());
    });

    it('gives a fresh session for garbage, tampered, foreign and destroyed cookies', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const genuine = await loginTo(app, user('victim'));
      const other = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cleanupInterval: 0, cookieSecure: false });
      let foreign: string;
      try {
        const setCookies: string[] = [];
        const session = await other.create({ appendSetCookie: (v) => void setCookies.push(v) });
        await other.setCookie({ appendSetCookie: (v) => void setCookies.push(v) }, session);
        foreign = setCookies[0]!.split(';')[0]!;
      } finally {
        await other.close();
      }
      const destroyedLogin = await loginTo(app, user('leaver'));
      await (await post(app.url('/logout'), {}, destroyedLogin)).arrayBuffer();
      const bad = [
        'rockstar_session=garbage',
        'rockstar_session=',
        'rockstar_session=%00%ff',
        `rockstar_session=${'A'.repeat(8000)}`,
        ';;;=;=',
        tamper(genuine),
        `${genuine}x`,
        foreign,
        destroyedLogin,
      ];
      for (const cookie of bad) {
        const response = await get(app.url('/t/session'), cookie);
        assert.equal(response.status, 200, `${cookie.slice(0, 40)}… answers 200`);
        assert.deepEqual(await response.json(), { id: null, isNew: true, data: {} }, `${cookie.slice(0, 40)}… is a fresh session`);
        assert.equal(cookieOf(response), undefined, 'and no cookie is set for it');
        const profile = await get(app.url('/profile'), cookie);
        assert.equal(profile.status, 401, 'a protected route answers 401, never 500');
        await profile.arrayBuffer();
      }
      // A fresh session that gets data is stored under a new id.
      const revived = await post(app.url('/t/data'), { fresh: true }, tamper(genuine));
      assert.ok(cookieOf(revived));
      assert.equal((await get(app.url('/profile'), genuine)).status, 200, 'the genuine cookie still works');
      assert.deepEqual(app.logged, []);
    });

    it('regenerate issues a new id, keeps the data and kills the old id', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const before = await loginTo(app, user('fixated'));
      const oldState = await sessionState(app, before);
      const response = await post(app.url('/t/regenerate'), { extra: 'kept' }, before);
      const { oldId, id } = (await response.json()) as { oldId: string; id: string };
      assert.equal(oldId, oldState.id);
      assert.notEqual(id, oldId);
      const after = cookieOf(response);
      assert.ok(after, 'the new id comes with a cookie');
      const renewed = await sessionState(app, after);
      assert.equal(renewed.id, id);
      assert.equal(renewed.data.username, user('fixated'));
      assert.equal(renewed.data.extra, 'kept');
      assert.deepEqual(await sessionState(app, before), { id: null, isNew: true, data: {} }, 'the old cookie names nothing any more');
      // Logging in again on an existing session regenerates too: the pre-login cookie dies.
      const relogin = await post(app.url('/login'), { username: user('fixated'), password: 'rockstar' }, after);
      assert.equal(relogin.status, 200);
      const third = cookieOf(relogin);
      assert.ok(third && third !== after);
      assert.equal((await sessionState(app, after)).isNew, true);
      assert.equal((await sessionState(app, third)).data.extra, 'kept', 'what the session held before login stays');
    });

    it('destroy removes the session and clears the cookie', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('quitter'));
      const response = await post(app.url('/t/destroy'), {}, cookie);
      assert.deepEqual(await response.json(), { isNew: true });
      assert.ok(clearsCookie(response));
      const setCookies = response.headers.getSetCookie();
      // The configured scope first, then the scopes a planted same-named cookie could have (this request's ancestor paths).
      assert.match(setCookies[0]!, /^rockstar_session=; .*Path=\/(;|$)/);
      assert.ok(setCookies.every((c) => c.startsWith('rockstar_session=;') && /Max-Age=0/.test(c)), 'nothing but clearing values');
      assert.ok(setCookies.some((c) => /Path=\/t(;|$)/.test(c)), 'the request path reached the manager: its ancestors are cleared too');
      assert.equal((await sessionState(app, cookie)).isNew, true);
      // Destroying a session that was never stored sets no cookie at all.
      const none = await post(app.url('/t/destroy'), {});
      assert.equal(none.headers.getSetCookie().length, 0);
    });

    it('sends one session cookie for a request that destroys and then starts a new session', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('restarter'));
      const response = await post(app.url('/t/destroy-and-restart'), { flash: 'logged out' }, cookie);
      const ours = response.headers.getSetCookie().filter((c) => c.startsWith('rockstar_session='));
      const setting = ours.filter((c) => !c.startsWith('rockstar_session=;'));
      assert.equal(setting.length, 1, 'one cookie sets the session');
      assert.equal(ours.at(-1), setting[0], 'after every clearing value (the browser applies them in order)');
      assert.ok(!ours.some((c) => c.startsWith('rockstar_session=;') && /Path=\/(;|$)/.test(c) && !/Domain=/.test(c)), "the configured scope's clearing value was replaced by the new cookie");
      const next = cookieOf(response);
      assert.ok(next && next !== cookie);
      assert.deepEqual((await sessionState(app, next)).data, { flash: 'logged out' });
      assert.equal((await sessionState(app, cookie)).isNew, true);
    });

    it('answers data the store cannot hold with 400, and writes nothing of it', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('careless'));
      app.writes.reset();
      const response = await post(app.url('/t/unstorable'), {}, cookie);
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: 'session data rejected', code: 'ERR_SESSION_DATA' });
      assert.equal(app.writes.total, 0);
      const fresh = await post(app.url('/t/unstorable'), {});
      assert.equal(fresh.status, 400, 'on a new session too');
      assert.equal(cookieOf(fresh), undefined);
      assert.equal(app.writes.insert, app.writes.delete, 'a session created for it is removed again');
    });

    it('answers a store outage during the save with 503 and Retry-After, and reports it', async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const { app } = suite;
      const cookie = await loginTo(app, user('unlucky'));
      const logged = app.logged.length;
      app.writes.failure = storeOutage();
      let response: Response;
      try {
        response = await post(app.url('/t/data'), { lost: true }, cookie);
      } finally {
        app.writes.failure = null;
      }
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '1');
      const text = await response.text();
      assert.deepEqual(JSON.parse(text), { error: 'session store unavailable, retry later', code: 'ERR_SESSION_STORE' });
      assert.doesNotMatch(text, /ECONNREFUSED|3306/, 'the store detail stays out of the body');
      assert.equal(app.logged.length, logged + 1, 'onError heard of it');
      assert.deepEqual(app.logged.at(-1)!.request, { method: 'POST', path: '/t/data' });
      assert.equal((await sessionState(app, cookie)).data.lost, undefined, 'nothing was half-written');
      // A new session's first save fails the same way, and leaves no session behind.
      app.writes.failure = storeOutage();
      try {
        const login = await post(app.url('/login'), { username: user('unlucky2'), password: 'rockstar' });
        assert.equal(login.status, 503);
        assert.equal(cookieOf(login), undefined);
      } finally {
        app.writes.failure = null;
      }
      assert.equal((await post(app.url('/t/data'), { recovered: true }, cookie)).status, 200, 'and it recovers');
    });
  });
}

function describeLoadOutage(kind: FrameworkKind): void {
  describe(`${kind} when the store cannot be read`, () => {
    let failure: Error | null = null;
    const suite = frameworkAppPerSuite(kind, 'cache', { loadFailure: () => failure });

    it('answers 503 with Retry-After, runs no route, and recovers', async () => {
      const { app } = suite;
      const cookie = await loginTo(app, 'reader');
      failure = storeOutage();
      let response: Response;
      try {
        response = await get(app.url('/profile'), cookie);
      } finally {
        failure = null;
      }
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '1');
      assert.equal(((await response.json()) as { code: string }).code, 'ERR_SESSION_STORE');
      assert.equal(app.logged.length, 1);
      assert.equal((await get(app.url('/profile'), cookie)).status, 200);
    });
  });
}
