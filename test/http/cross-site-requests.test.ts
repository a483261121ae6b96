/**
 * The example's state-changing routes (POST /login, POST /cart/items,
 * DELETE /cart, POST /logout) refuse what a browser sends on behalf of
 * another site, with 403 and nothing done: Sec-Fetch-Site 'cross-site' or
 * 'same-site', or (without it) an Origin that is not the app's own. Requests
 * from the app's own pages and from non-browsers (neither header) pass, and
 * so do pages of a trusted origin. On every server the example runs on
 * (uWS, node:http, Express 4 and 5, Fastify).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticateUser } from '../../examples/auth.ts';
import { getWithCookie, jsonOf, login, sessionCookie } from './app-fixture.ts';
import { EXAMPLE_SERVERS, startExample, type ExampleApp } from './example-servers.ts';
import { rawExchange, rawRequest } from './raw-http.ts';

const TRUSTED = 'https://shop.example.com';

for (const server of EXAMPLE_SERVERS) {
  describe(`cross-site requests on ${server}`, () => {
    let app: ExampleApp;
    before(async () => {
      app = await startExample(server, { trustedOrigins: [TRUSTED] });
    });
    after(() => app.close());

    const ownOrigin = (): string => `http://127.0.0.1:${app.port}`;

    function loginFrom(username: string, headers: Record<string, string>): Promise<Response> {
      return fetch(app.url('/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ username, password: 'rockstar' }).toString(),
      });
    }

    async function sessionsOf(username: string): Promise<number> {
      return (await app.manager.listForUser(authenticateUser(username, 'rockstar')!.id)).length;
    }

    it('refuses a cross-site or same-site login form with 403, and no session is created (login CSRF)', async () => {
      const forged: Array<Record<string, string>> = [
        { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
        { 'sec-fetch-site': 'same-site', origin: `http://evil.127.0.0.1:${app.port}` },
        { 'sec-fetch-site': 'cross-site' }, // a no-cors form post from an older page: no Origin, Sec-Fetch-Site says enough
        { origin: 'https://evil.example' }, // an older browser: Origin only
        { origin: 'null' }, // a sandboxed frame or data: URL
        { origin: `http://127.0.0.1:${app.port + 1}` }, // another port is another origin
      ];
      for (const [i, headers] of forged.entries()) {
        const username = `forged-${i}-${server}`;
        const response = await loginFrom(username, headers);
        assert.equal(response.status, 403, JSON.stringify(headers));
        assert.equal((await jsonOf(response)).code, 'ERR_CROSS_ORIGIN');
        assert.equal(sessionCookie(response), undefined);
        assert.equal(await sessionsOf(username), 0, 'the handler never ran');
      }
    });

    it('accepts logins from its own pages, from the address bar, from non-browsers and from a trusted origin', async () => {
      const allowed: Array<Record<string, string>> = [
        { 'sec-fetch-site': 'same-origin', origin: ownOrigin() },
        { 'sec-fetch-site': 'none' },
        { origin: ownOrigin() }, // an older browser on the app's own page
        {}, // curl, a script, a server
        { 'sec-fetch-site': 'cross-site', origin: TRUSTED },
        { origin: TRUSTED },
      ];
      for (const [i, headers] of allowed.entries()) {
        const response = await loginFrom(`allowed-${i}-${server}`, headers);
        assert.equal(response.status, 200, JSON.stringify(headers));
        assert.ok(sessionCookie(response));
      }
    });

    it('refuses cross-site cart writes, cart clearing and logout, leaving the session as it was', async () => {
      const cookie = await login(app, `victim-${server}`);
      const own = { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };
      assert.equal((await fetch(app.url('/cart/items'), { method: 'POST', headers: own, body: '{"productId":"mine"}' })).status, 200);
      const forged = { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
      for (const [method, path, body] of [
        ['POST', '/cart/items', '{"productId":"forged"}'],
        ['DELETE', '/cart', undefined],
        ['POST', '/logout', undefined],
      ] as const) {
        const response = await fetch(app.url(path), { method, headers: forged, ...(body ? { body } : {}) });
        assert.equal(response.status, 403, `${method} ${path}`);
      }
      assert.deepEqual((await jsonOf(getWithCookie(app.url('/cart'), cookie))).items, ['mine']);
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200, 'the forged logout did nothing');
    });

    it('leaves reads alone: a cross-site GET of the profile still answers', async () => {
      const cookie = await login(app, `reader-${server}`);
      const response = await fetch(app.url('/profile'), { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
      assert.equal(response.status, 200);
    });

    it('compares Origin with the Host the request names', async () => {
      const [response] = await rawExchange(
        app.port,
        rawRequest('POST', '/login', [['Origin', 'http://127.0.0.1'], ['Content-Type', 'application/json']], JSON.stringify({ username: `host-${server}`, password: 'rockstar' })),
      );
      // rawRequest sends "Host: 127.0.0.1" (no port), so this Origin is the app's own; another host is not.
      assert.equal(response?.status, 200);
      const [refused] = await rawExchange(
        app.port,
        rawRequest('POST', '/login', [['Origin', 'http://127.0.0.2'], ['Content-Type', 'application/json']], JSON.stringify({ username: `host2-${server}`, password: 'rockstar' })),
      );
      assert.equal(refused?.status, 403);
    });
  });
}
