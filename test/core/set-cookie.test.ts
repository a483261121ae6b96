import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { validateConfig } from '../../src/config.ts';
import { CookieWriter, MAX_COOKIE_CANDIDATES } from '../../src/http/cookie.ts';
import { TOKEN_CHARS } from '../../src/token.ts';
import { cacheManager, context, HOUR } from '../helpers/manager.ts';

const writer = new CookieWriter(validateConfig({ storageType: 'cache', encryptionKey: Buffer.alloc(32, 5) }));

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

describe('prefixed cookie names', () => {
  it('a __Host- cookie is Secure, Path=/ and host-only, as browsers require', async () => {
    const { manager } = await cacheManager({ cookieName: '__Host-session' });
    const ctx = context();
    await manager.setCookie(ctx, await manager.create(ctx));
    const header = ctx.setCookies[0]!;
    assert.match(header, /^__Host-session=[A-Za-z0-9_-]+; /);
    assert.match(header, /; Secure(;|$)/);
    assert.match(header, /; Path=\/(;|$)/);
    assert.doesNotMatch(header, /Domain=/i);
    // The browser sends it back under the same name, and the manager finds it.
    const session = await manager.getSessionFromCookie(context({ cookieHeader: `other=1; ${header.split(';')[0]}` }));
    assert.ok(session.id);
    await manager.close();
  });
});

describe('the session cookie values in a Cookie header', () => {
  it(`returns the values of our name in order, at most ${MAX_COOKIE_CANDIDATES}`, () => {
    assert.ok(MAX_COOKIE_CANDIDATES >= 16);
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
    const header = values.map((v, i) => `${i % 3 === 0 ? 'other' : 'rockstar_session'}=${v}`).join('; ');
    const expected = values.filter((_, i) => i % 3 !== 0).slice(0, MAX_COOKIE_CANDIDATES);
    assert.deepEqual(writer.valuesIn(header), expected);
  });

  it('finds our cookie behind 15 planted ones (a sibling subdomain plants them for longer paths, which browsers send first)', () => {
    const planted = Array.from({ length: 15 }, (_, i) => `rockstar_session=planted${i}`);
    assert.deepEqual(writer.valuesIn([...planted, 'rockstar_session=ours'].join('; ')).at(-1), 'ours');
  });

  it('skips empty values, so they cannot use up the bound', () => {
    const header = [...Array.from({ length: 50 }, () => 'rockstar_session='), 'rockstar_session=ours'].join('; ');
    assert.deepEqual(writer.valuesIn(header), ['ours']);
  });

  it('reads quoted values, spaces around the name and "=", and ignores names that only start like ours', () => {
    assert.deepEqual(writer.valuesIn('rockstar_sessionx=no;  rockstar_session = "a" ;rockstar_session=b;x=rockstar_session=c'), ['a', 'b']);
  });

  it('never throws, and returns at most the bound, on any header a client sends', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('rockstar_session=', 'rockstar_session', ';', '=', '"', ' ', '\t', '\u0000', '\ud800', 'rockstar_session="'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (pieces) => {
        const values = writer.valuesIn(pieces.join(''));
        assert.ok(Array.isArray(values) && values.length <= MAX_COOKIE_CANDIDATES);
        for (const value of values) assert.ok(value.length > 0 && !value.includes(';'));
      }),
      { numRuns: 500 },
    );
  });
});
