/**
 * Served over https (COOKIE_SECURE=1), the example names its cookie
 * __Host-rockstar_session: Secure, Path=/ and no Domain, so browsers refuse
 * any same-named cookie a sibling subdomain or a plain-http page tries to
 * set. The whole login / profile / logout flow works under that name, on
 * every server the example runs on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sessionConfigFromEnv } from '../../examples/config.ts';
import { getWithCookie, postJson, sessionCookie } from './app-fixture.ts';
import { EXAMPLE_SERVERS, startExample, type ExampleApp } from './example-servers.ts';

const NAME = '__Host-rockstar_session';

for (const server of EXAMPLE_SERVERS) {
  describe(`the __Host- cookie of COOKIE_SECURE=1 on ${server}`, () => {
    let app: ExampleApp;
    before(async () => {
      const { config } = sessionConfigFromEnv({ SESSION_STORE: 'cache', SESSION_KEY: randomBytes(32).toString('base64'), COOKIE_SECURE: '1' });
      app = await startExample(server, { session: config });
    });
    after(() => app.close());

    it('sets __Host-rockstar_session with Secure, Path=/ and no Domain, and serves the session it names', async () => {
      const response = await postJson(app.url('/login'), { username: 'secure-ada', password: 'rockstar' });
      assert.equal(response.status, 200);
      const header = response.headers.getSetCookie().find((h) => h.startsWith(`${NAME}=`));
      assert.ok(header, 'the login sets the __Host- cookie');
      assert.match(header, /; Secure/);
      assert.match(header, /; Path=\/(;|$)/);
      assert.doesNotMatch(header, /Domain=/i);
      const cookie = sessionCookie(response, NAME)!;
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
      // The unprefixed name means nothing to this app.
      assert.equal((await getWithCookie(app.url('/profile'), cookie.replace(NAME, 'rockstar_session'))).status, 401);
      const logout = await fetch(app.url('/logout'), { method: 'POST', headers: { cookie } });
      assert.equal(logout.status, 200);
      assert.ok(logout.headers.getSetCookie().some((h) => h.startsWith(`${NAME}=;`)), 'the logout clears the __Host- cookie');
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 401);
    });
  });
}
