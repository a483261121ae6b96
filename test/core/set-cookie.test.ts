import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOKEN_CHARS } from '../../src/token.ts';
import { cacheManager, context, HOUR } from '../helpers/manager.ts';

describe('the session cookie', () => {
  it('carries the configured attributes and an expiry equal to the session expiry', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, cookieName: 'app_session', cookieDomain: 'example.com', cookiePath: '/app', cookieSameSite: 'Strict' });
    const ctx = context();
    const session = await manager.create(ctx);
    await manager.setCookie(ctx, session);
    const header = ctx.setCookies[0]!;
    const [pair, ...attributes] = header.split('; ');
    assert.match(pair!, new RegExp(`^app_session=[A-Za-z0-9_-]{${TOKEN_CHARS}}$`));
    assert.deepEqual(attributes.sort(), [
      `Expires=${new Date(clock.now + HOUR).toUTCString()}`,
      'Max-Age=3600',
      'Domain=example.com',
      'Path=/app',
      'HttpOnly',
      'Secure',
      'SameSite=Strict',
    ].sort());
    await manager.close();
  });

  it('never shows the session id in the cookie', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    await manager.setCookie(ctx, session);
    assert.ok(!ctx.setCookies[0]!.includes(session.id));
    await manager.close();
  });

  it('clearCookie expires the cookie with the same scope', async () => {
    const { manager } = await cacheManager({ cookiePath: '/app', cookieSecure: false });
    const ctx = context();
    await manager.clearCookie(ctx);
    assert.equal(ctx.setCookies[0], 'rockstar_session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; HttpOnly; SameSite=Lax');
    await manager.close();
  });

  it('refuses a Set-Cookie over 4096 bytes with ERR_SESSION_COOKIE_TOO_LARGE and sets nothing', async () => {
    const { manager } = await cacheManager({ cookiePath: `/${'p'.repeat(4000)}` });
    const ctx = context();
    const session = await manager.create(ctx);
    await assert.rejects(manager.setCookie(ctx, session), (e: Error & { code?: string }) => e.code === 'ERR_SESSION_COOKIE_TOO_LARGE');
    assert.deepEqual(ctx.setCookies, []);
    await manager.close();
  });
});
