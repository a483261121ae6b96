/**
 * The verified-token map lets a cookie seen before skip base64, AEAD and
 * hashing. It must never make any other value valid, never outlive the
 * token's expiry, and stay bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { TokenClaims, VerifiedTokens } from '../../src/tier/token-map.ts';
import { cacheManager, context, cookieHeaderFrom, HOUR, MINUTE, rejectsWithCode } from '../helpers/manager.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

async function verifiedCookie(overrides = {}) {
  const t = await cacheManager(overrides);
  const ctx = context();
  const session = await t.manager.regenerate(ctx, await t.manager.create(ctx));
  const header = cookieHeaderFrom(ctx);
  // First sight: verified by AEAD, and remembered.
  assert.equal((await t.manager.getSessionFromCookie(context({ cookieHeader: header }))).id, session.id);
  assert.ok(t.manager.peekSessionFromCookie(context({ cookieHeader: header })), 'remembered: answered from memory');
  const [name, value] = header.split('=') as [string, string];
  return { ...t, session, header, name, value };
}

/** A corruption of `value`: a changed character, a truncation, a re-cased character, or one appended. */
const corruption = (length: number) =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: length - 1 }), char: fc.constantFrom(...ALPHABET) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: length - 1 }) }),
    fc.record({ kind: fc.constant('recase' as const), at: fc.nat({ max: length - 1 }) }),
    fc.record({ kind: fc.constant('append' as const), char: fc.constantFrom(...ALPHABET) }),
  );

function corrupt(value: string, change: { kind: string; at?: number; char?: string }): string {
  const at = change.at ?? 0;
  switch (change.kind) {
    case 'flip':
      return value.slice(0, at) + change.char + value.slice(at + 1);
    case 'truncate':
      return value.slice(0, at);
    case 'recase': {
      const c = value[at]!;
      const other = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return value.slice(0, at) + other + value.slice(at + 1);
    }
    default:
      return value + change.char;
  }
}

describe('the verified-token map', () => {
  it('never makes a flipped, truncated, re-cased or extended token valid (property)', async () => {
    const { manager, name, value } = await verifiedCookie();
    await fc.assert(
      fc.asyncProperty(corruption(value.length), async (change) => {
        const changed = corrupt(value, change);
        fc.pre(changed !== value);
        const ctx = context({ cookieHeader: `${name}=${changed}` });
        assert.equal(manager.peekSessionFromCookie(ctx), undefined, 'not answered from memory');
        await rejectsWithCode(manager.getSessionFromCookie(ctx), 'ERR_SESSION_INVALID_COOKIE');
      }),
      { numRuns: 400 },
    );
    // And the genuine one still works, from memory.
    assert.ok(manager.peekSessionFromCookie(context({ cookieHeader: `${name}=${value}` })));
    await manager.close();
  });

  it('refuses a remembered token once its own expiry has passed, though the session lives on', async () => {
    const { manager, clock, session, header } = await verifiedCookie({ sessionLifetime: HOUR, touchThreshold: MINUTE });
    clock.advance(30 * MINUTE);
    await manager.set(session.id, 'kept-alive', true); // a write without a ctx: the record lives on, the cookie does not
    clock.advance(30 * MINUTE);
    assert.equal(await manager.isValid(session.id), true, 'the session is alive');
    assert.equal(manager.peekSessionFromCookie(context({ cookieHeader: header })), undefined);
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: header })), 'ERR_SESSION_INVALID_COOKIE');
    await manager.close();
  });

  it('answers for a destroyed session as not found, though its token is remembered', async () => {
    const { manager, session, header } = await verifiedCookie();
    await manager.destroy(null, session.id);
    assert.equal(manager.peekSessionFromCookie(context({ cookieHeader: header })), undefined);
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: header })), 'ERR_SESSION_NOT_FOUND');
    await manager.close();
  });

  it('stays within its capacity, forgetting the oldest first', () => {
    const tokens = new VerifiedTokens(3);
    const claims = TokenClaims.of('k'.repeat(32), Date.now(), 1, false);
    const values = Array.from({ length: 4 }, () => randomBytes(89).toString('base64url'));
    for (const value of values) tokens.remember(value, claims);
    assert.equal(tokens.size, 3);
    assert.equal(tokens.get(values[0]!), undefined);
    assert.equal(tokens.get(values[3]!)?.key, claims.key);
    assert.equal(tokens.get(values[3]!)?.value, values[3]);
  });

  it('matches only the exact value, whatever number its nonce characters give', () => {
    const tokens = new VerifiedTokens(10);
    const value = randomBytes(89).toString('base64url');
    tokens.remember(value, TokenClaims.of('k'.repeat(32), Date.now(), 1, false));
    // Same characters at every position the slot is read from, different elsewhere: the same slot, another value.
    const sameSlot = value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41);
    assert.ok(tokens.get(value));
    assert.equal(tokens.get(sameSlot), undefined);
    assert.equal(tokens.get(value.slice(0, 60)), undefined);
  });

  it('is reported by cacheStats, bounded by the cache budget', async () => {
    const { manager } = await verifiedCookie({ cache: { maxBytes: 1024 * 1024 } });
    const stats = manager.cacheStats();
    assert.equal(stats.tokens, 1);
    assert.equal(stats.tokenCapacity, 2048);
    assert.ok(stats.tokenBytes > 0);
    await manager.close();
  });
});
