/**
 * Whatever cookie a client sends, a protected route answers 401, never a
 * 500: garbage, tampered, oversized, sealed under another key, expired,
 * or naming a destroyed session.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { FakeClock, HOUR } from '../helpers/manager.ts';
import { getWithCookie, login, SERVERS, startTestApp, type TestApp, jsonOf } from './app-fixture.ts';

/** Flips one base64url character in the middle of the token. */
function tamper(cookie: string): string {
  const [name, value = ''] = cookie.split('=');
  const at = Math.floor(value.length / 2);
  const swapped = value[at] === 'A' ? 'B' : 'A';
  return `${name}=${value.slice(0, at)}${swapped}${value.slice(at + 1)}`;
}

for (const server of SERVERS) {
  describe(`bad cookies on ${server}`, () => {
    let app: TestApp;
    const clock = new FakeClock();

    before(async () => {
      app = await startTestApp({ server, session: { now: clock.read, sessionLifetime: HOUR } });
    });
    after(() => app.close());

    async function assert401(cookie: string | undefined, what: string): Promise<void> {
      for (const path of ['/profile', '/cart']) {
        const response = await getWithCookie(app.url(path), cookie);
        assert.equal(response.status, 401, `${what} on ${path}: ${response.status}`);
        const body = (await response.json()) as { code: string };
        assert.match(body.code, /^ERR_SESSION_(INVALID_COOKIE|NOT_FOUND|EXPIRED)$/, what);
      }
    }

    it('answers 401 to garbage cookie values', async () => {
      for (const value of ['garbage', '', '=', '%00%ff', '"quoted"', 'A'.repeat(43), '!!!!', 'é'.repeat(20)]) {
        await assert401(`rockstar_session=${value}`, `value ${JSON.stringify(value)}`);
      }
      await assert401('just-junk-without-equals', 'a Cookie header without pairs');
      await assert401(';;;;=;=', 'a Cookie header of separators');
    });

    it('answers 401 to a tampered token, and the genuine one still works', async () => {
      const cookie = await login(app);
      await assert401(tamper(cookie), 'a tampered token');
      await assert401(`${cookie}x`, 'a token with a byte appended');
      await assert401(cookie.slice(0, -2), 'a truncated token');
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
    });

    it('answers 401 to oversized cookies', async () => {
      await assert401(`rockstar_session=${'A'.repeat(8000)}`, 'an 8000-character token');
      await assert401(`${'x'.repeat(3000)}=1; rockstar_session=${randomBytes(3000).toString('base64url')}`, 'a 6 KB Cookie header');
    });

    it('answers 401 to a token sealed under another key', async () => {
      const other = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cleanupInterval: 0, cookieSecure: false });
      try {
        const setCookies: string[] = [];
        const session = await other.create({ appendSetCookie: (v) => void setCookies.push(v) });
        await other.setCookie({ appendSetCookie: (v) => void setCookies.push(v) }, session);
        await assert401(setCookies[0]!.split(';')[0]!, 'a foreign token');
      } finally {
        await other.close();
      }
    });

    it('answers 401 once the session has expired', async () => {
      const cookie = await login(app);
      assert.equal((await getWithCookie(app.url('/profile'), cookie)).status, 200);
      clock.advance(2 * HOUR);
      await assert401(cookie, 'an expired session');
    });

    it('answers 401 when the session was destroyed behind the cookie', async () => {
      const cookie = await login(app, 'destroyed');
      const [session] = await app.manager.listForUser((await jsonOf(getWithCookie(app.url('/profile'), cookie))).user_id);
      await app.manager.destroy({ appendSetCookie() {} }, session!.id);
      await assert401(cookie, 'a destroyed session');
    });

    it('logged no server failure for any of them', () => {
      assert.deepEqual(app.logged, []);
    });
  });
}
