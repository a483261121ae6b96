/**
 * Someone who can write the persistent store (a file header, the
 * expires_at column) but holds no key. The sealed record carries the
 * absolute lifetime, so stretching the metadata cannot keep a session past it;
 * a record moved to another key does not open there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, cookieHeaderFrom, FakeClock, HOUR, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

describe('a store rewritten by someone without the key', () => {
  it('cannot stretch a session past its sealed absolute lifetime by rewriting its expiry', async () => {
    const clock = new FakeClock();
    const store = new SharedMemoryStore();
    const manager = nodeOver(store, { encryptionKey: testKey(), now: clock.read, sessionLifetime: HOUR, absoluteLifetime: 2 * HOUR, cache: { staleMs: 0 } });
    const ctx = context();
    const session = await manager.create(ctx);
    await manager.setCookie(ctx, session);
    const cookie = cookieHeaderFrom(ctx);
    clock.advance(2 * HOUR);
    for (const [key, record] of store.records) store.records.set(key, { ...record, expiresAt: clock.now + 100 * HOUR });
    await rejectsWithCode(manager.load(ctx, session.id), 'ERR_SESSION_EXPIRED');
    await rejectsWithCode(manager.get(session.id, 'x'), 'ERR_SESSION_EXPIRED');
    assert.equal(await manager.isValid(session.id), false);
    await rejectsWithCode(manager.set(session.id, 'x', 1), 'ERR_SESSION_EXPIRED');
    // The cookie's own expiry ran out too; a forged cookie cannot be made without the key.
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: cookie })), 'ERR_SESSION_INVALID_COOKIE');
  });

  it('cannot move one user\'s record under another\'s key', async () => {
    const store = new SharedMemoryStore();
    const errors: Error[] = [];
    const manager = nodeOver(store, { encryptionKey: testKey(), now: new FakeClock().read, cache: { staleMs: 0 }, onError: (e) => errors.push(e) });
    const victim = await manager.create(context());
    const attacker = await manager.create(context());
    victim.data.role = 'admin';
    await manager.save(null, victim);
    const keys = [...store.records.keys()];
    const [victimKey, attackerKey] = [keys[0]!, keys[1]!];
    store.records.set(attackerKey, { ...store.records.get(victimKey)! });
    await rejectsWithCode(manager.load(context(), attacker.id), 'ERR_SESSION_NOT_FOUND');
    assert.match(errors[0]!.message, /did not open/);
  });
});
