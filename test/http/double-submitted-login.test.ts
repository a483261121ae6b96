/**
 * A login form submitted twice (a double click, a retry) sends two logins
 * with the same session cookie. The first regenerates the session, so the
 * old id is gone when the second tries to: that must still be a successful
 * login (the password was right), with the visitor's cart kept, on every
 * server the example runs on, over a store that does real I/O.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionManager } from '../../src/index.ts';
import { getWithCookie, jsonOf, login, overrideManager, postJson, sessionCookie, storeSetup, type StoreSetup } from './app-fixture.ts';
import { EXAMPLE_SERVERS, startExample, type ExampleApp } from './example-servers.ts';

for (const server of EXAMPLE_SERVERS) {
  describe(`a double-submitted login on ${server} over the filesystem store`, () => {
    let app: ExampleApp;
    let store: StoreSetup;
    /** When set, regenerate() waits until this many calls have arrived: both logins read the old session first. */
    let meetAt = 0;
    let arrived = 0;
    let everyoneHere: () => void = () => {};
    let meeting: Promise<void> = Promise.resolve();

    before(async () => {
      const setup = await storeSetup('filesystem');
      if ('skip' in setup) throw new Error(setup.skip);
      store = setup;
      app = await startExample(server, {
        session: setup.config,
        wrapManager: (manager) =>
          overrideManager(manager, {
            regenerate: (async (...args: Parameters<SessionManager['regenerate']>) => {
              if (meetAt > 0 && ++arrived <= meetAt) {
                if (arrived === meetAt) everyoneHere();
                await meeting;
              }
              return manager.regenerate(...args);
            }) as never,
          }),
      });
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    async function loginTwiceAtOnce(cookie: string, username: string, times: number): Promise<Response[]> {
      meetAt = times;
      arrived = 0;
      meeting = new Promise((resolve) => (everyoneHere = resolve));
      try {
        return await Promise.all(Array.from({ length: times }, () => postJson(app.url('/login'), { username, password: 'rockstar' }, cookie)));
      } finally {
        meetAt = 0;
      }
    }

    it('answers 200 to both logins when the first has already moved the session, and keeps the cart', async () => {
      for (const times of [2, 3]) {
        const username = `double-${times}-${server}`;
        const cookie = await login(app, username);
        assert.equal((await postJson(app.url('/cart/items'), { productId: 'keep-me' }, cookie)).status, 200);
        const responses = await loginTwiceAtOnce(cookie, username, times);
        assert.deepEqual(
          responses.map((r) => r.status),
          Array(times).fill(200),
        );
        for (const response of responses) {
          assert.equal((await jsonOf(response)).user.username, username);
          const renewed = sessionCookie(response);
          assert.ok(renewed, 'every login sets a working cookie');
          const profile = await getWithCookie(app.url('/profile'), renewed);
          assert.equal(profile.status, 200);
          assert.equal((await jsonOf(profile)).username, username);
          assert.deepEqual((await jsonOf(getWithCookie(app.url('/cart'), renewed))).items, ['keep-me'], 'the cart came along');
        }
        assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 401, 'the pre-login id is dead');
      }
    });

    it('answers 200 to logins raced without a barrier', async () => {
      const username = `double-race-${server}`;
      const cookie = await login(app, username);
      const responses = await Promise.all(Array.from({ length: 4 }, () => postJson(app.url('/login'), { username, password: 'rockstar' }, cookie)));
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200, 200],
      );
      for (const response of responses) assert.equal((await getWithCookie(app.url('/profile'), sessionCookie(response))).status, 200);
    });

    it('still refuses a wrong password, and logged no failure', async () => {
      const cookie = await login(app, `double-wrong-${server}`);
      const response = await postJson(app.url('/login'), { username: `double-wrong-${server}`, password: 'nope' }, cookie);
      assert.equal(response.status, 401);
      assert.deepEqual(app.logged, []);
    });
  });
}
