import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryStore } from '../../src/stores/memory.ts';
import { randomKey, recordWrite, storeContract, T0 } from './contract.ts';

storeContract('cache (in-process LRU)', async () => {
  const store = new MemoryStore({ maxBytes: 16 * 1024 * 1024, now: () => T0 });
  await store.open();
  return { store, cleanup: () => store.close() };
});

it('cache store evicts least-recently-used records to stay within its byte budget', async () => {
  const store = new MemoryStore({ maxBytes: 64 * 1024, now: () => T0 });
  const keys = Array.from({ length: 200 }, randomKey);
  for (const key of keys) await store.insert(key, recordWrite({ sealed: Buffer.alloc(1000) }));
  const kept = (await Promise.all(keys.map((k) => store.find(k)))).filter(Boolean).length;
  assert.ok(kept > 0 && kept < 200, `kept ${kept} of 200 within 64 KiB`);
  assert.ok(await store.find(keys[199]!), 'the newest record is kept');
  assert.equal(await store.find(keys[0]!), null, 'the oldest record was evicted');
});

it('cache store drops evicted records from the user index', async () => {
  const store = new MemoryStore({ maxBytes: 8 * 1024, now: () => T0 });
  const tag = 'ab'.repeat(16);
  for (let i = 0; i < 50; i++) await store.insert(randomKey(), recordWrite({ userTag: tag, sealed: Buffer.alloc(1000) }));
  const listed = await store.listByUser(tag, 1000);
  for (const { key } of listed) assert.ok(await store.find(key));
  assert.ok(listed.length < 50);
});
