import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionManager } from '../../src/manager.ts';
import { context, cookieHeaderFrom, FakeClock, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

/** A manager ("a deployment with these keys") over a persistent store that outlives it. */
function managerOver(store: SharedMemoryStore, clock: FakeClock, encryptionKey: Buffer, previousKeys: Buffer[] = []): SessionManager {
  return nodeOver(store, { encryptionKey, previousKeys, now: clock.read });
}

describe('key rotation with previousKeys', () => {
  it('opens cookies and records sealed under a previous key, and re-seals them under the new one', async () => {
    const clock = new FakeClock();
    const store = new SharedMemoryStore();
    const oldKey = testKey();
    const newKey = testKey();
    const before = managerOver(store, clock, oldKey);
    const ctx = context({ userId: 'u' });
    const session = await before.create(ctx);
    session.data.kept = 'yes';
    await before.save(ctx, session);
    await before.setCookie(ctx, session);
    const oldCookie = cookieHeaderFrom(ctx);

    const after = managerOver(store, clock, newKey, [oldKey]);
    const readCtx = context({ cookieHeader: oldCookie });
    const loaded = await after.getSessionFromCookie(readCtx);
    assert.equal(loaded.data.kept, 'yes');
    assert.equal(readCtx.setCookies.length, 1, 'a cookie sealed with an old key is re-issued under the new one');

    loaded.data.more = 1;
    await after.save(readCtx, loaded);
    // Dropping the old key: the re-issued cookie and the re-sealed record must open with the new key alone.
    const onlyNew = managerOver(store, clock, newKey, []);
    await rejectsWithCode(onlyNew.getSessionFromCookie(context({ cookieHeader: oldCookie })), 'ERR_SESSION_INVALID_COOKIE');
    const reissued = cookieHeaderFrom(readCtx);
    await assert.rejects(onlyNew.getSessionFromCookie(context({ cookieHeader: reissued })), (e: Error & { code?: string }) => {
      // The record lives under the store key derived from the key it was created with (documented):
      // without that key it can no longer be located, so it reads as not found, never as someone else's.
      return e.code === 'ERR_SESSION_NOT_FOUND';
    });
    const withOld = managerOver(store, clock, newKey, [oldKey]);
    assert.deepEqual((await withOld.getSessionFromCookie(context({ cookieHeader: reissued }))).data, { kept: 'yes', more: 1 });
  });

  it('lists a user\'s sessions created under a previous key', async () => {
    const clock = new FakeClock();
    const store = new SharedMemoryStore();
    const oldKey = testKey();
    const before = managerOver(store, clock, oldKey);
    const session = await before.create(context({ userId: 'rotated' }));
    const after = managerOver(store, clock, testKey(), [oldKey]);
    assert.deepEqual((await after.listForUser('rotated')).map((s) => s.id), [session.id]);
  });
});
