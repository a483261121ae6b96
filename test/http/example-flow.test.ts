/**
 * The seed's Complete Example, end to end over real HTTP: login, profile,
 * cart, re-login (regenerated id), logout; on uWS and node:http, over every
 * store. A store type that is not available fails here (the database store is
 * skipped, with the reason printed, only when MYSQL_URL is not set).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticateUser } from '../../examples/auth.ts';
import { getWithCookie, login, postJson, uniqueUsername, SERVERS, sessionCookie, appPerSuite, STORES, jsonOf } from './app-fixture.ts';

const USER_AGENT = 'example-flow-test/1.0';

for (const storageType of STORES) {
  for (const server of SERVERS) {
    describe(`example app on ${server} over the ${storageType} store`, () => {
      const suite = appPerSuite(server, storageType);
      const name = (base: string): string => uniqueUsername(base, `flow-${server}`);


      it('answers 401 to /profile, /cart and /logout without a cookie', async (t) => {
        if (suite.skip) return t.skip(suite.skip);
        for (const [method, path] of [['GET', '/profile'], ['GET', '/cart'], ['POST', '/logout'], ['POST', '/cart/items']] as const) {
          const response = await fetch(suite.app.url(path), { method });
          assert.equal(response.status, 401, `${method} ${path}`);
          assert.equal((await jsonOf(response)).code, 'ERR_SESSION_INVALID_COOKIE');
        }
      });

      it('refuses a wrong password with 401 and creates no session', async (t) => {
        if (suite.skip) return t.skip(suite.skip);
        const user = authenticateUser(name('mallory'), 'rockstar')!;
        const response = await postJson(suite.app.url('/login'), { username: name('mallory'), password: 'hunter2' });
        assert.equal(response.status, 401);
        assert.deepEqual(await response.json(), { error: 'Invalid credentials' });
        assert.equal(sessionCookie(response), undefined);
        assert.equal((await suite.app.manager.listForUser(user.id)).length, 0);
      });

      it('logs in, serves the profile, keeps a cart, regenerates on re-login and dies on logout', async (t) => {
        if (suite.skip) return t.skip(suite.skip);
        const ada = name('ada');
        const user = authenticateUser(ada, 'rockstar')!;
        const before = Date.now();
        const loginResponse = await fetch(suite.app.url('/login'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
          body: JSON.stringify({ username: ada, password: 'rockstar' }),
        });
        assert.equal(loginResponse.status, 200);
        assert.deepEqual(await loginResponse.json(), { message: 'Logged in successfully', user: { user_id: user.id, username: ada, roles: ['user'] } });
        const setCookie = loginResponse.headers.getSetCookie().find((h) => h.startsWith('rockstar_session='));
        assert.ok(setCookie, 'login sets the session cookie');
        assert.match(setCookie, /; HttpOnly/);
        assert.match(setCookie, /; SameSite=Lax/);
        assert.match(setCookie, /; Path=\//);
        assert.equal(loginResponse.headers.get('cache-control'), 'no-store');
        const cookie = sessionCookie(loginResponse)!;

        const profile = await getWithCookie(suite.app.url('/profile'), cookie);
        assert.equal(profile.status, 200);
        const body = await jsonOf(profile);
        assert.deepEqual(Object.keys(body).sort(), ['login_time', 'user_id', 'username']);
        assert.equal(body.user_id, user.id);
        assert.equal(body.username, ada);
        const loginTime = Date.parse(body.login_time);
        assert.ok(loginTime >= before - 1000 && loginTime <= Date.now() + 1000, `login_time ${body.login_time} is the login's time`);

        // The session records who, from where, with what.
        const [stored, ...others] = await suite.app.manager.listForUser(user.id);
        assert.equal(others.length, 0);
        assert.ok(stored);
        assert.deepEqual(stored.data.roles, ['user']);
        assert.ok(stored.data.login_time instanceof Date, 'login_time is stored as a Date');
        assert.equal(stored.userId, user.id);
        assert.equal(stored.ipAddress, '127.0.0.1');
        assert.equal(stored.userAgent, USER_AGENT);

        // Cart: append (JSON and form bodies), read, clear.
        let response = await postJson(suite.app.url('/cart/items'), { productId: 'p-1' }, cookie);
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { items: ['p-1'] });
        response = await fetch(suite.app.url('/cart/items'), {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'productId=p-2',
        });
        assert.deepEqual(await response.json(), { items: ['p-1', 'p-2'] });
        response = await getWithCookie(suite.app.url('/cart'), cookie);
        assert.deepEqual(await response.json(), { items: ['p-1', 'p-2'] });
        response = await postJson(suite.app.url('/cart/items'), { productId: '' }, cookie);
        assert.equal(response.status, 400, 'an empty productId is refused');

        // Logging in again (form body) with the cookie: a new id, the cart kept, the old id dead.
        response = await fetch(suite.app.url('/login'), {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: `username=${encodeURIComponent(ada)}&password=rockstar`,
        });
        assert.equal(response.status, 200);
        const renewed = sessionCookie(response)!;
        assert.ok(renewed && renewed !== cookie, 'a new cookie');
        assert.equal((await getWithCookie(suite.app.url('/profile'), cookie)).status, 401, 'the pre-regeneration cookie is dead');
        assert.deepEqual(await (await getWithCookie(suite.app.url('/cart'), renewed)).json(), { items: ['p-1', 'p-2'] });
        assert.equal((await suite.app.manager.listForUser(user.id)).length, 1, 'the old session is gone, not just unreferenced');

        response = await fetch(suite.app.url('/cart'), { method: 'DELETE', headers: { cookie: renewed } });
        assert.deepEqual(await response.json(), { items: [] });
        assert.deepEqual(await (await getWithCookie(suite.app.url('/cart'), renewed)).json(), { items: [] });

        // Logout: 200, the cookie cleared, and the old cookie is dead everywhere.
        response = await fetch(suite.app.url('/logout'), { method: 'POST', headers: { cookie: renewed } });
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { message: 'Logged out successfully' });
        const cleared = response.headers.getSetCookie().find((h) => h.startsWith('rockstar_session='));
        assert.match(cleared ?? '', /^rockstar_session=; .*Max-Age=0/);
        for (const [method, path] of [['GET', '/profile'], ['GET', '/cart'], ['POST', '/logout']] as const) {
          const after = await fetch(suite.app.url(path), { method, headers: { cookie: renewed } });
          assert.equal(after.status, 401, `${method} ${path} after logout`);
        }
        assert.equal((await suite.app.manager.listForUser(user.id)).length, 0);
      });

      it('starts a fresh session when a different user logs in over an existing one', async (t) => {
        if (suite.skip) return t.skip(suite.skip);
        const first = await login(suite.app, name('grace'));
        await postJson(suite.app.url('/cart/items'), { productId: 'graces' }, first);
        const response = await fetch(suite.app.url('/login'), {
          method: 'POST',
          headers: { cookie: first, 'content-type': 'application/json' },
          body: JSON.stringify({ username: name('linus'), password: 'rockstar' }),
        });
        const second = sessionCookie(response)!;
        assert.deepEqual(await (await getWithCookie(suite.app.url('/cart'), second)).json(), { items: [] }, "grace's cart does not follow linus");
        assert.equal((await getWithCookie(suite.app.url('/profile'), first)).status, 401);
        assert.equal((await jsonOf(getWithCookie(suite.app.url('/profile'), second))).username, name('linus'));
      });

      it('logged nothing as a server failure', (t) => {
        if (suite.skip) return t.skip(suite.skip);
        assert.deepEqual(suite.app.logged, []);
      });
    });
  }
}
