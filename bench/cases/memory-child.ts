/**
 * One memory measurement in a fresh process (started with --expose-gc):
 * fill a store with N sessions and report the growth of heapUsed + external
 * after full GCs. Prints one JSON line.
 * Usage: node --expose-gc --import tsx bench/cases/memory-child.ts <ours|memorystore> <N>
 */
import { randomBytes } from 'node:crypto';
import type { SessionManager } from '../../src/index.ts';
import type { RecordWrite } from '../../src/stores/store.ts';
import { KeyRing, storeKeyHex } from '../../src/crypto/aead.ts';
import { parseSessionId } from '../../src/token.ts';
import { BENCH_KEY, benchContext, benchManager, loginSessionData } from '../lib/engine.ts';
import { expressSessionObject, memorystore, promised } from '../lib/peer-stores.ts';

const [kind, countText] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('memory-child needs --expose-gc');

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage();
}

/** The record the manager stored for `id`, as the store holds it. */
async function realSealedRecord(manager: SessionManager, id: string): Promise<RecordWrite> {
  const key = storeKeyHex(new KeyRing(BENCH_KEY).current, parseSessionId(id)!);
  const record = await manager.store.find(key);
  if (!record) throw new Error('memory bench: the sample session is not in the store');
  return { expiresAt: record.expiresAt, userTag: record.userTag, tenantTag: record.tenantTag, sealed: record.sealed };
}

const keep: unknown[] = [];
let before: NodeJS.MemoryUsage;
let entries = 0;
let sealedBytes = 0;
const started = performance.now();
if (kind === 'ours') {
  const manager = await benchManager({ cache: { maxBytes: 8 * 1024 ** 3 } });
  const ctx = benchContext();
  // Warm the code paths first, so compiled code and pools are in the baseline, not in the delta.
  for (let i = 0; i < 1000; i++) await manager.destroy(ctx, (await manager.create(ctx)).id);
  before = settle();
  for (let i = 0; i < count; i++) {
    const session = await manager.create(ctx);
    session.data = loginSessionData(`user${i}`);
    await manager.save(ctx, session);
  }
  entries = (manager.store as unknown as { cacheStats?: { entries: number } }).cacheStats?.entries ?? count;
  keep.push(manager);
} else if (kind === 'ours-direct') {
  // The same cache, filled below the manager with records of the real size: the manager's crypto makes a 1M fill
  // take about a minute, and what is held per entry (key string, record object, sealed bytes, LRU slots) is the same.
  const manager = await benchManager({ cache: { maxBytes: 8 * 1024 ** 3 } });
  const ctx = benchContext();
  const sample = await manager.create(ctx);
  sample.data = loginSessionData('user0');
  await manager.save(ctx, sample);
  const store = manager.store;
  const template = await realSealedRecord(manager, sample.id);
  sealedBytes = template.sealed.byteLength;
  for (let i = 0; i < 1000; i++) await store.insert(randomBytes(32).toString('hex'), { ...template, sealed: Buffer.from(template.sealed) });
  before = settle();
  for (let i = 0; i < count; i++) await store.insert(randomBytes(32).toString('hex'), { ...template, sealed: Buffer.from(template.sealed) });
  entries = count;
  keep.push(manager);
} else if (kind === 'memorystore') {
  const store = promised(memorystore());
  for (let i = 0; i < 1000; i++) await store.set(`warm${i}`, expressSessionObject('warm'));
  before = settle();
  for (let i = 0; i < count; i++) await store.set(`sid-${i.toString(36).padStart(8, '0')}-abcdefghijklmnopqrstuvwx`, expressSessionObject(`user${i}`));
  entries = count;
  keep.push(store);
} else {
  throw new Error(`unknown kind ${kind}`);
}
const fillSeconds = (performance.now() - started) / 1000;
const after = settle();
const delta = (after.heapUsed + after.external) - (before.heapUsed + before.external);
process.stdout.write(
  JSON.stringify({
    kind,
    count,
    entries,
    bytesPerSession: delta / count,
    heapPerSession: (after.heapUsed - before.heapUsed) / count,
    externalPerSession: (after.external - before.external) / count,
    arrayBuffersPerSession: (after.arrayBuffers - before.arrayBuffers) / count,
    rssPerSession: (after.rss - before.rss) / count,
    fillSeconds,
    sealedBytes,
  }) + '\n',
);
process.exit(0);
