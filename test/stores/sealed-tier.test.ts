/**
 * The in-process tier in front of a persistent store (SealedRecordStore):
 * open records served from memory, sealed only at the boundary, fresh
 * within staleMs, never older than the client has seen, exact within a process.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyRing } from '../../src/crypto/aead.ts';
import { InlineSealer } from '../../src/crypto/sealer.ts';
import type { RecordWrite, StoreKey, StoredRecord } from '../../src/stores/store.ts';
import { SealedRecordStore } from '../../src/tier/sealed-store.ts';
import { hexOf } from '../../src/tier/tier-key.ts';
import { testKey } from '../helpers/manager.ts';
import { SharedMemoryStore } from '../helpers/shared-store.ts';
import { T0 } from './contract.ts';
import { draft, randomTierKey, recordStoreContract } from './record-contract.ts';

/** A backing store that counts reads and can be made to fail or stall. */
class InstrumentedStore extends SharedMemoryStore {
  reads = 0;
  failWrites = false;
  stallReads: Promise<void> | undefined;
  override async find(key: StoreKey): Promise<StoredRecord | null> {
    this.reads++;
    const result = await super.find(key);
    if (this.stallReads) await this.stallReads;
    return result;
  }
  override async update(key: StoreKey, version: number, write: RecordWrite): Promise<boolean> {
    if (this.failWrites) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    return super.update(key, version, write);
  }
}

function layered(staleMs = 1000, backing = new InstrumentedStore(), key = testKey()) {
  let now = T0;
  const errors: Error[] = [];
  const ring = new KeyRing(key);
  const sealer = new InlineSealer(ring);
  const tier = new SealedRecordStore(backing, sealer, { maxBytes: 1 << 24, staleMs, now: () => now, onError: (e) => errors.push(e) });
  return { backing, tier, errors, advance: (ms: number) => (now += ms) };
}

recordStoreContract('sealed tier over a shared persistent store', async () => {
  const { tier } = layered();
  await tier.open();
  return { store: tier, cleanup: () => tier.close() };
});

describe('the sealed tier in front of a persistent store', () => {
  it('keeps only sealed bytes in the persistent store: no data, id or user agent in the clear', async () => {
    const { backing, tier } = layered();
    const key = randomTierKey();
    await tier.insert(key, draft({ userAgent: 'Mozilla/5.0 secret-agent', data: { card: 'plaintext-secret-4111' } }));
    const stored = Buffer.from(backing.records.get(hexOf(key))!.sealed).toString('latin1');
    assert.doesNotMatch(stored, /plaintext-secret|secret-agent|AAAAAAAA/);
  });

  it('serves repeated reads from memory within staleMs, then asks the store again', async () => {
    const { backing, tier, advance } = layered(1000);
    const key = randomTierKey();
    await tier.insert(key, draft());
    const readsAfterInsert = backing.reads;
    await tier.find(key, 0);
    assert.ok(tier.peek(key, 0), 'a record this process wrote is answered synchronously');
    assert.equal(backing.reads, readsAfterInsert);
    advance(1000);
    assert.equal(tier.peek(key, 0), undefined, 'past staleMs it must be read again');
    await tier.find(key, 0);
    assert.equal(backing.reads, readsAfterInsert + 1);
  });

  it('reads through at once when the client has seen a newer version than the cached one', async () => {
    const key = testKey();
    const shared = new InstrumentedStore();
    const nodeA = layered(60_000, shared, key);
    const nodeB = layered(60_000, shared, key);
    const storeKey = randomTierKey();
    await nodeA.tier.insert(storeKey, draft({ data: { v: 1 } }));
    assert.deepEqual((await nodeB.tier.find(storeKey, 0))?.data, { v: 1 }, 'node B caches version 1');
    await nodeA.tier.update(storeKey, 1, draft({ data: { v: 2 } }));
    assert.deepEqual((await nodeB.tier.find(storeKey, 0))?.data, { v: 1 }, 'other clients see the change within staleMs');
    assert.equal(nodeB.tier.peek(storeKey, 2), undefined, 'but never for a client that has seen version 2');
    assert.deepEqual((await nodeB.tier.find(storeKey, 2))?.data, { v: 2 }, 'which reads through to it');
    assert.deepEqual((await nodeB.tier.find(storeKey, 0))?.data, { v: 2 }, 'and the newer copy is what is cached now');
  });

  it('refuses a stale CAS rather than losing the other write, and reads fresh after it', async () => {
    const { backing, tier } = layered(1000);
    const key = randomTierKey();
    await tier.insert(key, draft({ data: { mine: 1 } }));
    await backing.update(hexOf(key), 1, backing.records.get(hexOf(key))!); // "another process" wrote version 2
    assert.equal((await tier.find(key, 0))?.version, 1, 'stale read within staleMs');
    assert.equal(await tier.update(key, 1, draft()), null, 'the stale version cannot overwrite');
    assert.equal((await tier.find(key, 0))?.version, 2, 'a refused write drops the cached copy: the next read is fresh');
  });

  it('does not claim a write the backing store failed, and keeps the old record readable', async () => {
    const { backing, tier } = layered(60_000);
    const key = randomTierKey();
    await tier.insert(key, draft({ data: { first: true } }));
    backing.failWrites = true;
    await assert.rejects(tier.update(key, 1, draft({ data: { second: true } })), { code: 'ERR_SESSION_STORE', message: /ENOSPC/ });
    backing.failWrites = false;
    const found = await tier.find(key, 0);
    assert.equal(found?.version, 1);
    assert.deepEqual(found?.data, { first: true });
  });

  it('never caches a read that raced with this process\'s delete (no revival from the cache)', async () => {
    const { backing, tier } = layered(60_000);
    const key = randomTierKey();
    await tier.insert(key, draft());
    tier.peek(key, 0);
    const other = layered(60_000, backing).tier; // "a cold process": its first read goes to the store
    let release!: () => void;
    backing.stallReads = new Promise((resolve) => (release = resolve));
    const slowRead = other.find(key, 0);
    await new Promise((resolve) => setImmediate(resolve));
    backing.stallReads = undefined;
    await other.delete(key);
    release();
    await slowRead;
    assert.equal(await other.find(key, 0), null, 'the racing read was not cached');
  });

  it('shares one backing read among concurrent misses of one key', async () => {
    const { backing, tier } = layered(1000);
    const key = randomTierKey();
    const writer = layered(1000, backing).tier;
    await writer.insert(key, draft());
    const before = backing.reads;
    await Promise.all(Array.from({ length: 10 }, () => tier.find(key, 0)));
    assert.equal(backing.reads, before + 1);
  });

  it('with staleMs 0 sends every read to the store', async () => {
    const { backing, tier } = layered(0);
    const key = randomTierKey();
    await tier.insert(key, draft());
    const before = backing.reads;
    await tier.find(key, 0);
    await tier.find(key, 0);
    assert.equal(backing.reads, before + 2);
  });

  it('reads a record moved to another key, or sealed under a foreign key, as missing and reports it', async () => {
    const { backing, tier, errors } = layered(0);
    const key = randomTierKey();
    await tier.insert(key, draft());
    const moved = randomTierKey();
    backing.records.set(hexOf(moved), backing.records.get(hexOf(key))!);
    assert.equal(await tier.find(moved, 0), null);
    const foreign = layered(0, backing).tier;
    assert.equal(await foreign.find(key, 0), null, 'sealed under another encryption key');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /did not open/);
  });

  it('never puts an older read-through over a newer one that finished first', async () => {
    const encryptionKey = testKey();
    const { backing, tier } = layered(60_000, new InstrumentedStore(), encryptionKey);
    const key = randomTierKey();
    const writer = layered(60_000, backing, encryptionKey).tier;
    await writer.insert(key, draft({ data: { v: 1 } }));
    const old = backing.records.get(hexOf(key))!;
    // A slow read that will answer with version 1, though the store moves on meanwhile.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const find = backing.find.bind(backing);
    backing.find = async (k) => {
      backing.find = find;
      await gate;
      return old;
    };
    const slow = tier.find(key, 0);
    await writer.update(key, 1, draft({ data: { v: 2 } }));
    assert.deepEqual((await tier.find(key, 2))?.data, { v: 2 }, 'a read that needs version 2 reads it');
    release();
    assert.deepEqual((await slow)?.data, { v: 1 }, 'the slow read answers what it saw');
    assert.deepEqual(tier.peek(key, 0)?.data, { v: 2 }, 'and the tier keeps the newer copy');
  });

  it('answers a key it saw deleted, or read as missing, from memory within staleMs', async () => {
    const { backing, tier, advance } = layered(1000);
    const key = randomTierKey();
    await tier.insert(key, draft());
    await tier.delete(key);
    const reads = backing.reads;
    for (let i = 0; i < 5; i++) assert.equal(await tier.find(key, 3), null, 'a dead cookie replayed: still missing');
    const never = randomTierKey();
    assert.equal(await tier.find(never, 1), null);
    assert.equal(await tier.find(never, 1), null);
    assert.equal(backing.reads, reads + 1, 'one read of the store in all: for the key never seen');
    advance(1000);
    assert.equal(await tier.find(key, 0), null);
    assert.equal(backing.reads, reads + 2, 'asked again once staleMs has passed');
  });

  it('reads through for a version newer than the read that found the key missing (a cookie written on another node)', async () => {
    const key = testKey();
    const here = layered(1000, new InstrumentedStore(), key);
    const there = layered(1000, here.backing, key);
    const tierKey = randomTierKey();
    assert.equal(await here.tier.find(tierKey, 0), null, 'read by id before the other node created it');
    await there.tier.insert(tierKey, draft());
    const record = await here.tier.find(tierKey, 1); // the client's cookie says version 1 was written
    assert.equal(record?.version, 1);
  });
});
