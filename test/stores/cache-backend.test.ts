/**
 * The `cache` backend: open records in this process's segmented LRU, no
 * crypto. Its budget is kept, a flood of one-shot sessions cannot evict the
 * sessions in use, and a session the budget cannot hold is refused, never lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTRY_OVERHEAD_BYTES } from '../../src/tier/record-tier.ts';
import { MemoryRecordStore } from '../../src/tier/memory-store.ts';
import { randomTag } from './contract.ts';
import { draft, randomTierKey, recordStoreContract } from './record-contract.ts';

recordStoreContract('cache (open records in process memory)', async () => {
  const store = new MemoryRecordStore({ maxBytes: 16 * 1024 * 1024 });
  await store.open();
  return { store, cleanup: () => store.close() };
});

/** A draft of about `bytes` of data. */
function sized(bytes: number, extra: Parameters<typeof draft>[0] = {}) {
  return draft({ ...extra, data: { blob: 'x'.repeat(bytes) } });
}

describe('the cache backend under memory pressure', () => {
  it('keeps its estimated bytes within cache.maxBytes however much is written', async () => {
    const maxBytes = 256 * 1024;
    const store = new MemoryRecordStore({ maxBytes });
    for (let i = 0; i < 2000; i++) await store.insert(randomTierKey(), sized(900));
    const stats = store.stats;
    assert.ok(stats.bytes <= maxBytes, `${stats.bytes} B held within a ${maxBytes} B budget`);
    assert.ok(stats.entries > 0 && stats.entries < 2000, `${stats.entries} entries kept`);
    assert.ok(stats.evictions >= 2000 - stats.entries, 'what is gone was counted as evicted');
    // Each entry is budgeted at its measured fields plus the fixed overhead, so 2000 entries of ~1.3 KB cannot fit in 256 KiB.
    assert.ok(stats.bytes / stats.entries >= 900 + ENTRY_OVERHEAD_BYTES);
  });

  it('does not let a flood of one-shot sessions evict the sessions in use', async () => {
    const store = new MemoryRecordStore({ maxBytes: 512 * 1024 });
    const inUse = Array.from({ length: 100 }, randomTierKey);
    for (const key of inUse) {
      await store.insert(key, sized(200));
      await store.find(key, 0); // its second request: it is in use
    }
    // 100k logins from one client, none of them used again.
    for (let i = 0; i < 100_000; i++) await store.insert(randomTierKey(), sized(200));
    const kept = (await Promise.all(inUse.map((key) => store.find(key, 0)))).filter(Boolean).length;
    assert.equal(kept, inUse.length, 'every session in use survived the flood');
    assert.ok(store.stats.evictions > 90_000, `${store.stats.evictions} one-shot sessions evicted`);
    assert.ok(store.stats.bytes > 0.9 * 512 * 1024, 'new sessions may use the whole budget that sessions in use leave free');
    assert.ok(store.stats.hits >= inUse.length * 2);
  });

  it('evicts least-recently-used sessions in use only when they alone exceed the budget', async () => {
    const store = new MemoryRecordStore({ maxBytes: 256 * 1024 });
    const keys = Array.from({ length: 1000 }, randomTierKey);
    for (const key of keys) {
      await store.insert(key, sized(200));
      await store.find(key, 0);
    }
    assert.ok(await store.find(keys.at(-1)!, 0), 'the most recent is kept');
    assert.equal(await store.find(keys[0]!, 0), null, 'the least recently used was evicted');
  });

  it('drops evicted sessions from the user index', async () => {
    const store = new MemoryRecordStore({ maxBytes: 64 * 1024 });
    const tag = randomTag();
    for (let i = 0; i < 200; i++) await store.insert(randomTierKey(), sized(500, { userTag: tag }));
    const listed = await store.listByUser(tag, 1000);
    assert.ok(listed.length > 0 && listed.length < 200);
    for (const { key } of listed) assert.ok(await store.find(key, 0));
  });

  it('refuses a session larger than it can hold with ERR_SESSION_DATA instead of dropping it', async () => {
    const store = new MemoryRecordStore({ maxBytes: 64 * 1024 });
    const key = randomTierKey();
    await assert.rejects(store.insert(key, sized(20 * 1024)), { code: 'ERR_SESSION_DATA' });
    assert.equal(await store.find(key, 0), null);
    await store.insert(key, sized(100));
    await assert.rejects(store.update(key, 1, sized(20 * 1024)), { code: 'ERR_SESSION_DATA' });
    assert.equal((await store.find(key, 0))?.version, 1, 'the refused update left the session as it was');
  });
});
