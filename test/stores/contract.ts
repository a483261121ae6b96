/**
 * The SessionStore contract suite. Every store runs it:
 *   storeContract('filesystem', async () => ({ store, cleanup }))
 * Each test gets a fresh, opened store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RecordWrite, SessionStore } from '../../src/stores/store.ts';

export interface StoreFixture {
  readonly store: SessionStore;
  /** Closes the store and removes what the fixture created. */
  cleanup(): Promise<void>;
}

export const T0 = 1_800_000_000_000;

export function randomKey(): string {
  return randomBytes(32).toString('hex');
}

export function randomTag(): string {
  return randomBytes(16).toString('hex');
}

export function recordWrite(overrides: Partial<RecordWrite> = {}): RecordWrite {
  return { expiresAt: T0 + 60_000, userTag: null, tenantTag: null, sealed: randomBytes(120), ...overrides };
}

export function storeContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  async function withStore(fn: (store: SessionStore) => Promise<void>): Promise<void> {
    const fixture = await makeFixture();
    try {
      await fn(fixture.store);
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`SessionStore contract: ${name}`, () => {
    it('finds nothing under a key never written', () =>
      withStore(async (store) => {
        assert.equal(await store.find(randomKey()), null);
      }));

    it('inserts at version 1 and reads back the same bytes and metadata', () =>
      withStore(async (store) => {
        const key = randomKey();
        const write = recordWrite({ userTag: randomTag(), tenantTag: randomTag() });
        assert.equal(await store.insert(key, write), true);
        const found = await store.find(key);
        assert.ok(found);
        assert.equal(found.version, 1);
        assert.equal(found.expiresAt, write.expiresAt);
        assert.equal(found.userTag, write.userTag);
        assert.equal(found.tenantTag, write.tenantTag);
        assert.deepEqual(Buffer.from(found.sealed), Buffer.from(write.sealed));
      }));

    it('keeps binary records of every size intact (0xff bytes, 60 KiB)', () =>
      withStore(async (store) => {
        for (const sealed of [Buffer.alloc(45, 0xff), randomBytes(60 * 1024)]) {
          const key = randomKey();
          assert.equal(await store.insert(key, recordWrite({ sealed })), true);
          assert.deepEqual(Buffer.from((await store.find(key))!.sealed), sealed);
        }
      }));

    it('refuses a second insert under the same key and keeps the first record', () =>
      withStore(async (store) => {
        const key = randomKey();
        const first = recordWrite();
        assert.equal(await store.insert(key, first), true);
        assert.equal(await store.insert(key, recordWrite()), false);
        assert.deepEqual(Buffer.from((await store.find(key))!.sealed), Buffer.from(first.sealed));
      }));

    it('updates only at the expected version, bumping it by one', () =>
      withStore(async (store) => {
        const key = randomKey();
        await store.insert(key, recordWrite());
        const second = recordWrite({ expiresAt: T0 + 120_000, userTag: randomTag() });
        assert.equal(await store.update(key, 1, second), true);
        const found = await store.find(key);
        assert.equal(found!.version, 2);
        assert.equal(found!.expiresAt, second.expiresAt);
        assert.equal(found!.userTag, second.userTag);
        assert.deepEqual(Buffer.from(found!.sealed), Buffer.from(second.sealed));
        assert.equal(await store.update(key, 1, recordWrite()), false, 'stale version must be refused');
        assert.deepEqual(Buffer.from((await store.find(key))!.sealed), Buffer.from(second.sealed));
      }));

    it('refuses an update of a missing key (never an upsert)', () =>
      withStore(async (store) => {
        const key = randomKey();
        assert.equal(await store.update(key, 1, recordWrite()), false);
        assert.equal(await store.find(key), null);
      }));

    it('lets exactly one of several concurrent updates at one version win', () =>
      withStore(async (store) => {
        const key = randomKey();
        await store.insert(key, recordWrite());
        const writes = Array.from({ length: 8 }, () => recordWrite());
        const results = await Promise.all(writes.map((w) => store.update(key, 1, w)));
        assert.equal(results.filter(Boolean).length, 1);
        const winner = writes[results.indexOf(true)]!;
        const found = await store.find(key);
        assert.equal(found!.version, 2);
        assert.deepEqual(Buffer.from(found!.sealed), Buffer.from(winner.sealed));
      }));

    it('touches expiresAt without changing version or bytes', () =>
      withStore(async (store) => {
        const key = randomKey();
        const write = recordWrite();
        await store.insert(key, write);
        assert.equal(await store.touch(key, T0 + 999_000), true);
        const found = await store.find(key);
        assert.equal(found!.expiresAt, T0 + 999_000);
        assert.equal(found!.version, 1);
        assert.deepEqual(Buffer.from(found!.sealed), Buffer.from(write.sealed));
        assert.equal(await store.update(key, 1, recordWrite()), true, 'a touch must not break the CAS version');
      }));

    it('answers false when touching a missing key', () =>
      withStore(async (store) => {
        assert.equal(await store.touch(randomKey(), T0), false);
      }));

    it('deletes idempotently, and nothing revives a deleted record', () =>
      withStore(async (store) => {
        const key = randomKey();
        await store.insert(key, recordWrite());
        await store.delete(key);
        await store.delete(key);
        await store.delete(randomKey());
        assert.equal(await store.find(key), null);
        assert.equal(await store.update(key, 1, recordWrite()), false);
        assert.equal(await store.touch(key, T0 + 1), false);
        assert.equal(await store.find(key), null);
      }));

    it('still returns an expired record until cleanup removes it', () =>
      withStore(async (store) => {
        const key = randomKey();
        await store.insert(key, recordWrite({ expiresAt: T0 - 1 }));
        const found = await store.find(key);
        assert.equal(found?.expiresAt, T0 - 1);
      }));

    it('removes exactly the expired records on deleteExpired and counts them', () =>
      withStore(async (store) => {
        const expired = Array.from({ length: 5 }, randomKey);
        const live = Array.from({ length: 3 }, randomKey);
        for (const key of expired) await store.insert(key, recordWrite({ expiresAt: T0 - 1000 }));
        for (const key of live) await store.insert(key, recordWrite({ expiresAt: T0 + 1000 }));
        const boundary = randomKey();
        await store.insert(boundary, recordWrite({ expiresAt: T0 }));
        assert.equal(await store.deleteExpired(T0), 6, 'expiresAt <= now counts as expired');
        for (const key of [...expired, boundary]) assert.equal(await store.find(key), null);
        for (const key of live) assert.ok(await store.find(key));
        assert.equal(await store.deleteExpired(T0), 0);
      }));

    it('lists the records of one user tag, bounded by the limit', () =>
      withStore(async (store) => {
        const tag = randomTag();
        const other = randomTag();
        const mine = Array.from({ length: 4 }, randomKey);
        for (const key of mine) await store.insert(key, recordWrite({ userTag: tag }));
        await store.insert(randomKey(), recordWrite({ userTag: other }));
        await store.insert(randomKey(), recordWrite());
        const listed = await store.listByUser(tag, 100);
        assert.deepEqual(listed.map((r) => r.key).sort(), [...mine].sort());
        for (const { record } of listed) assert.equal(record.userTag, tag);
        assert.equal((await store.listByUser(tag, 2)).length, 2);
        assert.deepEqual(await store.listByUser(randomTag(), 10), []);
      }));

    it('moves a record to another user tag when an update changes it', () =>
      withStore(async (store) => {
        const key = randomKey();
        const before = randomTag();
        const after = randomTag();
        await store.insert(key, recordWrite({ userTag: before }));
        await store.update(key, 1, recordWrite({ userTag: after }));
        assert.deepEqual(await store.listByUser(before, 10), []);
        assert.deepEqual((await store.listByUser(after, 10)).map((r) => r.key), [key]);
      }));

    it('closes idempotently', async () => {
      const fixture = await makeFixture();
      await fixture.store.close();
      await fixture.store.close();
      await fixture.cleanup();
    });
  });
}
