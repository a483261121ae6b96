import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, cookieHeaderFrom, HOUR, rejectsWithCode } from '../helpers/manager.ts';

const INVALID = 'ERR_SESSION_INVALID_COOKIE';

async function issuedCookie() {
  const t = await cacheManager();
  const ctx = context();
  const session = await t.manager.create(ctx);
  await t.manager.setCookie(ctx, session);
  const header = cookieHeaderFrom(ctx);
  const [name, value] = header.split('=') as [string, string];
  return { ...t, session, header, name, value };
}

describe('cookie tampering always reads as an invalid cookie', () => {
  it('accepts the untouched cookie (the baseline the other cases change)', async () => {
    const { manager, header, session } = await issuedCookie();
    const loaded = await manager.getSessionFromCookie(context({ cookieHeader: header }));
    assert.equal(loaded.id, session.id);
    await manager.close();
  });

  it('rejects every single-character change of the cookie value', async () => {
    const { manager, name, value } = await issuedCookie();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < value.length; i++) {
      // Every other base64url character at this position, and a byte outside the alphabet.
      const replacements = [...alphabet.replace(value[i]!, ''), '%', '\u00ff'];
      for (const replacement of replacements) {
        const changed = value.slice(0, i) + replacement + value.slice(i + 1);
        await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${name}=${changed}` })), INVALID);
      }
    }
    await manager.close();
  });

  it('rejects every bit flip of the decoded token bytes', async () => {
    const { manager, name, value } = await issuedCookie();
    const bytes = Buffer.from(value, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 1 << bit;
        await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${name}=${flipped.toString('base64url')}` })), INVALID);
      }
    }
    await manager.close();
  });

  it('rejects the cookie truncated at every length, and extended by one character', async () => {
    const { manager, name, value } = await issuedCookie();
    for (let length = 0; length < value.length; length++) {
      await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${name}=${value.slice(0, length)}` })), INVALID);
    }
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${name}=${value}A` })), INVALID);
    await manager.close();
  });

  it('rejects a token sealed under another encryption key', async () => {
    const a = await issuedCookie();
    const b = await cacheManager();
    await rejectsWithCode(b.manager.getSessionFromCookie(context({ cookieHeader: a.header })), INVALID);
    await a.manager.close();
    await b.manager.close();
  });

  it('rejects a valid token moved into a cookie of another name', async () => {
    const { key, value } = await issuedCookie();
    const other = await cacheManager({ encryptionKey: key, cookieName: 'other_session' });
    await rejectsWithCode(other.manager.getSessionFromCookie(context({ cookieHeader: `other_session=${value}` })), INVALID);
    await other.manager.close();
  });

  it('rejects an absent cookie, an empty header and garbage headers', async () => {
    const { manager, name } = await issuedCookie();
    for (const cookieHeader of [undefined, '', 'other=1', `${name}=`, `${name}`, ';;;;', '\u0000\u0001', `${name}="${'x'.repeat(200)}"`, `${name}=${'A'.repeat(100_000)}`]) {
      await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader })), INVALID);
    }
    await manager.close();
  });

  it('rejects an expired token before asking the store, even if the session were still there', async () => {
    const { manager, clock, header } = await issuedCookie();
    clock.advance(24 * HOUR);
    await assert.rejects(manager.getSessionFromCookie(context({ cookieHeader: header })), (e: Error & { code?: string }) => {
      assert.equal(e.code, INVALID);
      assert.match(e.message, /expired/);
      return true;
    });
    await manager.close();
  });

  it('finds our cookie among others, and skips a bad duplicate before a good one', async () => {
    const { manager, header, session, name } = await issuedCookie();
    const loaded = await manager.getSessionFromCookie(context({ cookieHeader: `a=1; ${name}=garbage; b=2;  ${header}; c=3` }));
    assert.equal(loaded.id, session.id);
    await manager.close();
  });
});
