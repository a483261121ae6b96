import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedStore } from '../../src/stores/cached.ts';
import { MemoryStore } from '../../src/stores/memory.ts';
import type { RecordWrite, StoreKey, StoredRecord } from '../../src/stores/store.ts';
import { randomKey, recordWrite, storeContract, T0 } from './contract.ts';

/** A backing store that counts reads and can be made to fail or stall. */
class InstrumentedStore extends MemoryStore {
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

function layered(staleMs = 1000) {
  let now = T0;
  const backing = new InstrumentedStore({ maxBytes: 1 << 24, now: () => now });
  const cached = new CachedStore(backing, { maxBytes: 1 << 24, staleMs, now: () => now });
  return { backing, cached, advance: (ms: number) => (now += ms) };
}

storeContract('cached(cache)', async () => {
  const { cached } = layered();
  await cached.open();
  return { store: cached, cleanup: () => cached.close() };
});

describe('write-through cache layer', () => {
  it('serves repeated reads from memory within staleMs, then asks the store again', async () => {
    const { backing, cached, advance } = layered(1000);
    const key = randomKey();
    await cached.insert(key, recordWrite());
    const readsAfterInsert = backing.reads;
    await cached.find(key);
    await cached.find(key);
    assert.equal(backing.reads, readsAfterInsert, 'a record this process wrote is served from the cache');
    advance(1000);
    await cached.find(key);
    assert.equal(backing.reads, readsAfterInsert + 1);
  });

  it('sees another process\'s change at most staleMs late, and a stale CAS is refused rather than lost', async () => {
    const { backing, cached, advance } = layered(1000);
    const key = randomKey();
    await cached.insert(key, recordWrite());
    await backing.update(key, 1, recordWrite({ expiresAt: T0 + 5 })); // "another process"
    assert.equal((await cached.find(key))!.version, 1, 'stale read within staleMs');
    assert.equal(await cached.update(key, 1, recordWrite()), false, 'the stale version cannot overwrite');
    assert.equal((await cached.find(key))!.version, 2, 'a refused write evicts: the next read is fresh');
    advance(1);
  });

  it('does not claim a write the backing store failed, and keeps the old record readable', async () => {
    const { backing, cached } = layered(60_000);
    const key = randomKey();
    const first = recordWrite();
    await cached.insert(key, first);
    backing.failWrites = true;
    await assert.rejects(cached.update(key, 1, recordWrite()), /ENOSPC/);
    backing.failWrites = false;
    const found = await cached.find(key);
    assert.equal(found!.version, 1);
    assert.deepEqual(Buffer.from(found!.sealed), Buffer.from(first.sealed));
  });

  it('never caches a read that raced with this process\'s delete (no revival from the cache)', async () => {
    const { backing, cached } = layered(60_000);
    const key = randomKey();
    await backing.insert(key, recordWrite());
    let release!: () => void;
    backing.stallReads = new Promise((resolve) => (release = resolve));
    const slowRead = cached.find(key);
    await new Promise((resolve) => setImmediate(resolve));
    backing.stallReads = undefined;
    await cached.delete(key);
    release();
    assert.ok(await slowRead, 'the racing read itself may see the old record');
    assert.equal(await cached.find(key), null, 'but it was not cached');
  });

  it('shares one backing read among concurrent misses of one key', async () => {
    const { backing, cached } = layered(1000);
    const key = randomKey();
    await backing.insert(key, recordWrite());
    const before = backing.reads;
    await Promise.all(Array.from({ length: 10 }, () => cached.find(key)));
    assert.equal(backing.reads, before + 1);
  });

  it('with staleMs 0 sends every read to the store', async () => {
    const { backing, cached } = layered(0);
    const key = randomKey();
    await cached.insert(key, recordWrite());
    const before = backing.reads;
    await cached.find(key);
    await cached.find(key);
    assert.equal(backing.reads, before + 2);
  });
});
