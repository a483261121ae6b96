/**
 * One memory measurement in a fresh process (started with --expose-gc):
 * fill a store with N sessions and report the growth of heapUsed + external
 * after full GCs, with the engine's own view of what it holds when it
 * offers one (manager.cacheStats()). Prints one JSON line.
 * Usage: node --expose-gc --import tsx bench/cases/memory-child.ts <kind> <N>
 *
 * kinds:
 * - ours: the example's login (create, user id and data, regenerate), then
 *   one request with the cookie it set (getSessionFromCookie), so the
 *   verified-token map holds what it holds in production;
 * - ours-records-only: the same logins without the request, so the
 *   difference is what the token map (and anything the read adds) costs;
 * - memorystore: express-session's memorystore with the same session.
 */
import { createHash } from 'node:crypto';
import type { SessionManager } from '../../src/index.ts';
import { benchContext, benchManager, cookieHeaderFrom, type BenchContext } from '../lib/engine.ts';
import { expressSessionObject, memorystore, promised } from '../lib/peer-stores.ts';

const [kind, countText] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('memory-child needs --expose-gc');
if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`memory-child: the count must be a positive integer; received ${JSON.stringify(countText)}`);

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage();
}

export interface CacheView {
  /** Where the figures came from: manager.cacheStats(), or the cache store's older getter. */
  readonly source: string;
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes?: number;
  readonly tokens?: number;
  readonly tokenCapacity?: number;
  readonly hits?: number;
  readonly misses?: number;
  readonly evictions?: number;
}

/** The engine's own figures, feature-detected: manager.cacheStats() once the engine has it, else the cache store's getter. */
function cacheView(manager: SessionManager): CacheView | null {
  const withStats = manager as unknown as { cacheStats?: () => Omit<CacheView, 'source'> };
  if (typeof withStats.cacheStats === 'function') return { source: 'manager.cacheStats()', ...withStats.cacheStats() };
  const store = manager.store as unknown as { cacheStats?: { entries: number; bytes: number } };
  if (store.cacheStats && typeof store.cacheStats.entries === 'number') return { source: 'the cache store\'s cacheStats getter (this tree has no manager.cacheStats())', ...store.cacheStats };
  return null;
}

/** The example's login (examples/routes.ts): a session with the user's id and four data keys, given a fresh id by regenerate. */
async function exampleLogin(manager: SessionManager, i: number): Promise<BenchContext> {
  const username = `user${i}`;
  const userId = `u-${createHash('sha256').update(username).digest('hex').slice(0, 16)}`;
  const ctx = benchContext();
  ctx.userId = userId;
  const session = await manager.create(ctx);
  session.userId = userId;
  Object.assign(session.data, { user_id: userId, username, roles: ['user'], login_time: new Date() });
  await manager.regenerate(ctx, session);
  if (ctx.lastSetCookie === undefined) throw new Error('memory bench: the login set no cookie');
  return ctx;
}

async function fill(manager: SessionManager, from: number, to: number, withRequest: boolean): Promise<void> {
  for (let i = from; i < to; i++) {
    const login = await exampleLogin(manager, i);
    // The next request of that browser: the cookie the login set. Nothing of it is kept here.
    if (withRequest) await manager.getSessionFromCookie(benchContext(cookieHeaderFrom(login.lastSetCookie!)));
  }
}

const keep: unknown[] = [];
let before: NodeJS.MemoryUsage;
let stats: CacheView | null = null;
let statsBefore: CacheView | null = null;
const WARM = 1000;
const started = performance.now();
if (kind === 'ours' || kind === 'ours-records-only') {
  const withRequest = kind === 'ours';
  const manager = await benchManager({ cache: { maxBytes: 8 * 1024 ** 3 } });
  // Warm the code paths first, so compiled code and pools are in the baseline, not in the delta. These sessions stay.
  await fill(manager, 0, WARM, withRequest);
  statsBefore = cacheView(manager);
  before = settle();
  await fill(manager, WARM, WARM + count, withRequest);
  stats = cacheView(manager);
  keep.push(manager);
} else if (kind === 'memorystore') {
  const store = promised(memorystore());
  for (let i = 0; i < WARM; i++) await store.set(`warm${i}`, expressSessionObject('warm'));
  before = settle();
  for (let i = 0; i < count; i++) await store.set(`sid-${i.toString(36).padStart(8, '0')}-abcdefghijklmnopqrstuvwx`, expressSessionObject(`user${i}`));
  keep.push(store);
} else {
  throw new Error(`unknown kind ${kind}`);
}
const fillSeconds = (performance.now() - started) / 1000;
const after = settle();
const delta = after.heapUsed + after.external - (before.heapUsed + before.external);
process.stdout.write(
  JSON.stringify({
    kind,
    count,
    bytesPerSession: delta / count,
    heapPerSession: (after.heapUsed - before.heapUsed) / count,
    externalPerSession: (after.external - before.external) / count,
    arrayBuffersPerSession: (after.arrayBuffers - before.arrayBuffers) / count,
    rssPerSession: (after.rss - before.rss) / count,
    fillSeconds,
    stats,
    statsBefore,
  }) + '\n',
);
process.exit(0);
