/**
 * Logging out clears the session cookie in every scope a planted copy sent
 * with the request could have: the adapters hand the manager the request's
 * Host and path (SessionContext.requestHost / requestPath), so clearCookie()
 * also covers Domain=<each parent of the host> and the path's ancestors. On
 * both servers, and for nodeSessionContext (Express and plain Node).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nodeSessionContext } from '../../src/http/node.ts';
import { createSessionManager } from '../../src/index.ts';
import { login, SERVERS, startTestApp, type TestApp } from './app-fixture.ts';
import { rawExchange, rawRequest } from './raw-http.ts';

function clearedScopes(setCookies: string[]): string[] {
  return setCookies
    .filter((value) => value.startsWith('rockstar_session=;'))
    .map((value) => `${/Domain=([^;]+)/i.exec(value)?.[1] ?? '(host)'} ${/Path=([^;]+)/i.exec(value)?.[1]}`);
}

for (const server of SERVERS) {
  describe(`logout on ${server}`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ server });
    });
    after(() => app.close());

    it("clears the cookie for the request host's parent domains, not only host-only at Path=/", async () => {
      const cookie = await login(app, `planted-${server}`);
      const [response] = await rawExchange(app.app.port, rawRequest('POST', '/logout', [['Cookie', cookie]]).replace('Host: 127.0.0.1', 'Host: shop.example.com:8080'));
      assert.equal(response?.status, 200);
      const scopes = clearedScopes(response!.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value));
      assert.ok(scopes.includes('(host) /'), scopes.join(', '));
      assert.ok(scopes.includes('example.com /'), `a cookie planted by a sibling for Domain=example.com is cleared: ${scopes.join(', ')}`);
      assert.ok(scopes.includes('(host) /logout'), `and one planted for the request's own path: ${scopes.join(', ')}`);
    });
  });
}

it('nodeSessionContext passes the request path and host to clearCookie', async () => {
  const manager = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cleanupInterval: 0, cookieSecure: false });
  const http = createServer(async (req, res) => {
    await manager.clearCookie(nodeSessionContext(req, res));
    res.end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const port = (http.address() as AddressInfo).port;
    const [response] = await rawExchange(port, rawRequest('GET', '/account/logout?next=/', []).replace('Host: 127.0.0.1', 'Host: shop.example.com'));
    const scopes = clearedScopes(response!.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value));
    assert.ok(scopes.includes('example.com /'), scopes.join(', '));
    assert.ok(scopes.includes('(host) /account/'), scopes.join(', '));
  } finally {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await manager.close();
  }
});
