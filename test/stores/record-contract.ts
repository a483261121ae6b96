/**
 * The RecordStore contract suite: what the manager relies on from the store
 * of open records, whichever backend is behind it. Every RecordStore runs it:
 *   recordStoreContract('cache', async () => ({ store, cleanup }))
 * (the `cache` backend alone, and the sealing tier in front of each
 * persistent store). The sealed-bytes contract of each persistent store
 * itself is test/stores/contract.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareData } from '../../src/data/storable.ts';
import type { RecordDraft } from '../../src/tier/open-record.ts';
import type { RecordStore } from '../../src/tier/record-store.ts';
import { randomBytes } from 'node:crypto';
import type { TierKey } from '../../src/tier/tier-key.ts';
import { randomTag, T0 } from './contract.ts';

/** A store key as the tier holds it: 32 bytes in a latin1 string. */
export function randomTierKey(): TierKey {
  return randomBytes(32).toString('latin1');
}

export interface RecordStoreFixture {
  readonly store: RecordStore;
  cleanup(): Promise<void>;
}

let sequence = 0;

/** A draft as the manager makes one: data copied and measured by data/storable.ts. */
export function draft(overrides: Partial<Omit<RecordDraft, 'data'>> & { data?: Record<string, unknown> } = {}): RecordDraft {
  const prepared = prepareData(overrides.data ?? { n: ++sequence, nested: { list: [1, 'two', new Date(T0)] } }, 64 * 1024);
  return {
    id: 'A'.repeat(43),
    createdAt: T0,
    updatedAt: T0,
    absoluteExpiresAt: T0 + 7 * 86_400_000,
    userId: null,
    tenantId: null,
    ipAddress: '127.0.0.1',
    userAgent: 'test',
    expiresAt: T0 + 60_000,
    userTag: null,
    tenantTag: null,
    hasProtoKeys: prepared.hasProtoKeys,
    heapBytes: prepared.heapBytes,
    ...overrides,
    data: prepared.value,
  };
}

export function recordStoreContract(name: string, makeFixture: () => Promise<RecordStoreFixture>): void {
  async function withStore(fn: (store: RecordStore) => Promise<void>): Promise<void> {
    const fixture = await makeFixture();
    try {
      await fn(fixture.store);
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`RecordStore contract: ${name}`, () => {
    it('finds nothing under a key never written', () =>
      withStore(async (store) => {
        assert.equal(await store.find(randomTierKey(), 0), null);
      }));

    it('inserts at version 1 and reads back the same fields and data', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        const written = draft({ userId: 'u', userTag: randomTag(), data: { cart: ['a', 'b'], when: new Date(T0), big: 2n ** 70n, bytes: Buffer.from('xyz') } });
        const stored = await store.insert(key, written);
        assert.equal(stored?.version, 1);
        const found = await store.find(key, 0);
        assert.equal(found?.version, 1);
        assert.equal(found?.expiresAt, written.expiresAt);
        assert.equal(found?.userId, 'u');
        assert.equal(found?.userTag, written.userTag);
        assert.deepEqual(found?.data, { cart: ['a', 'b'], when: new Date(T0), big: 2n ** 70n, bytes: Buffer.from('xyz') });
      }));

    it('refuses a second insert under the same key and keeps the first record', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        await store.insert(key, draft({ data: { first: true } }));
        assert.equal(await store.insert(key, draft({ data: { second: true } })), null);
        assert.deepEqual((await store.find(key, 0))?.data, { first: true });
      }));

    it('updates only at the expected version, bumping it by one', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        await store.insert(key, draft());
        const stored = await store.update(key, 1, draft({ data: { v: 2 } }));
        assert.equal(stored?.version, 2);
        assert.deepEqual((await store.find(key, 0))?.data, { v: 2 });
        assert.equal(await store.update(key, 1, draft({ data: { v: 'stale' } })), null, 'a stale version is refused');
        assert.deepEqual((await store.find(key, 0))?.data, { v: 2 });
      }));

    it('refuses an update of a missing key (never an upsert)', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        assert.equal(await store.update(key, 1, draft()), null);
        assert.equal(await store.find(key, 0), null);
      }));

    it('lets exactly one of several concurrent updates at one version win', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        await store.insert(key, draft());
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.update(key, 1, draft({ data: { winner: i } }))));
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1);
        assert.deepEqual((await store.find(key, 0))?.data, winners[0]!.data);
      }));

    it('touches expiresAt without changing the version or the data', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        await store.insert(key, draft({ data: { kept: 1 } }));
        assert.equal(await store.touch(key, T0 + 999_000), true);
        const found = await store.find(key, 0);
        assert.equal(found?.expiresAt, T0 + 999_000);
        assert.equal(found?.version, 1);
        assert.deepEqual(found?.data, { kept: 1 });
        assert.ok(await store.update(key, 1, draft()), 'a touch must not break the CAS version');
        assert.equal(await store.touch(randomTierKey(), T0), false, 'a missing key is not touched');
      }));

    it('deletes idempotently, and nothing revives a deleted record', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        await store.insert(key, draft());
        await store.delete(key);
        await store.delete(key);
        await store.delete(randomTierKey());
        assert.equal(await store.find(key, 0), null);
        assert.equal(store.peek(key, 0) ?? null, null);
        assert.equal(await store.update(key, 1, draft()), null);
        assert.equal(await store.touch(key, T0 + 1), false);
        assert.equal(await store.find(key, 0), null);
      }));

    it('answers a record it holds synchronously through peek, and the same record find gives', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        const stored = await store.insert(key, draft());
        assert.equal(store.peek(key, 0), stored);
        assert.equal(await store.find(key, 0), stored);
      }));

    it('hands out records whose data a reader cannot have changed: a write makes a new record', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        const first = (await store.insert(key, draft({ data: { list: [1] } })))!;
        const second = (await store.update(key, 1, draft({ data: { list: [1, 2] } })))!;
        assert.notEqual(first, second);
        assert.deepEqual(first.data, { list: [1] }, 'the old snapshot is unchanged');
      }));

    it('still returns an expired record until cleanup removes it', () =>
      withStore(async (store) => {
        const key = randomTierKey();
        await store.insert(key, draft({ expiresAt: T0 - 1 }));
        assert.equal((await store.find(key, 0))?.expiresAt, T0 - 1);
      }));

    it('removes exactly the expired records on deleteExpired and counts them', () =>
      withStore(async (store) => {
        const expired = Array.from({ length: 5 }, randomTierKey);
        const live = Array.from({ length: 3 }, randomTierKey);
        for (const key of expired) await store.insert(key, draft({ expiresAt: T0 - 1000 }));
        for (const key of live) await store.insert(key, draft({ expiresAt: T0 + 1000 }));
        const boundary = randomTierKey();
        await store.insert(boundary, draft({ expiresAt: T0 }));
        assert.equal(await store.deleteExpired(T0), 6, 'expiresAt <= now counts as expired');
        for (const key of [...expired, boundary]) assert.equal(await store.find(key, 0), null);
        for (const key of live) assert.ok(await store.find(key, 0));
      }));

    it('lists the records of one user tag, bounded by the limit, and follows a tag change', () =>
      withStore(async (store) => {
        const tag = randomTag();
        const mine = Array.from({ length: 4 }, randomTierKey);
        for (const key of mine) await store.insert(key, draft({ userTag: tag }));
        await store.insert(randomTierKey(), draft({ userTag: randomTag() }));
        const listed = await store.listByUser(tag, 100);
        assert.deepEqual(listed.map((r) => r.key).sort(), [...mine].sort());
        assert.equal((await store.listByUser(tag, 2)).length, 2);
        const moved = mine[0]!;
        const after = randomTag();
        await store.update(moved, 1, draft({ userTag: after }));
        assert.ok(!(await store.listByUser(tag, 100)).some((r) => r.key === moved));
        assert.deepEqual((await store.listByUser(after, 10)).map((r) => r.key), [moved]);
      }));

    it('refuses every call after close with ERR_SESSION_CLOSED, and closes idempotently', async () => {
      const fixture = await makeFixture();
      const key = randomTierKey();
      await fixture.store.insert(key, draft());
      await fixture.store.close();
      await fixture.store.close();
      await assert.rejects(fixture.store.find(key, 0), { code: 'ERR_SESSION_CLOSED' });
      await assert.rejects(fixture.store.insert(randomTierKey(), draft()), { code: 'ERR_SESSION_CLOSED' });
      await fixture.cleanup();
    });
  });
}
