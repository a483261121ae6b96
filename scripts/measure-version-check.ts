/**
 * What the record-version check (issue 12, read-your-writes) adds to a cache
 * hit. The check lives in the tier in front of a persistent store
 * (tier/sealed-store.ts, peek: a cached copy older than the version in the
 * client's cookie is not served); the `cache` backend has none (one
 * process holds every version). So: the synchronous hit path
 * (peekSessionFromCookie, the data read, JSON) on a filesystem-store
 * manager, as it is, against the same manager with the tier's peek
 * replaced by one that ignores the cookie's version, interleaved (tinybench).
 * Also prints the cookie's size.
 *
 *   node --import tsx scripts/measure-version-check.ts [--time 1000] [--rounds 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createSessionManager, type SessionContext } from '../src/index.ts';
import { SealedRecordStore } from '../src/tier/sealed-store.ts';

const { values } = parseArgs({ options: { time: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const dir = mkdtempSync(join(tmpdir(), 'rockstar-version-check-'));
const manager = await createSessionManager({ storageType: 'filesystem', filesystemPath: dir, filesystem: { fsync: false }, encryptionKey: Buffer.alloc(32, 5), cookieSecure: false, cleanupInterval: 0, cache: { staleMs: 3_600_000 } });
const cookies: string[] = [];
const login: SessionContext = { userId: 'u-1', ipAddress: '127.0.0.1', userAgent: 'bench', appendSetCookie: (v) => void cookies.push(v) };
const created = await manager.create(login);
Object.assign(created.data, { user_id: 'u-0123456789abcdef', username: 'bench', roles: ['user'], login_time: new Date() });
await manager.regenerate(login, created);
const setCookie = cookies.at(-1)!;
const cookieHeader = setCookie.split(';')[0]!;
const ctx: SessionContext = { cookieHeader, appendSetCookie: () => {} };
await manager.getSessionFromCookie(ctx); // verified once: remembered from here on

const tier = manager.store as SealedRecordStore;
const checked = tier.peek.bind(tier);
const unchecked = (key: string) => checked(key, 0);
let sink = 0;
function hit(): void {
  const session = manager.peekSessionFromCookie(ctx);
  if (!session) throw new Error('not a cache hit');
  const { user_id, username, login_time } = session.data;
  sink += JSON.stringify({ user_id, username, login_time }).length;
}

const medians: Record<string, number[]> = { checked: [], unchecked: [] };
for (let round = 0; round < Number(values.rounds); round++) {
  for (const variant of round % 2 ? (['unchecked', 'checked'] as const) : (['checked', 'unchecked'] as const)) {
    (tier as { peek: unknown }).peek = variant === 'checked' ? checked : unchecked;
    hit();
    const bench = new Bench({ time: Number(values.time), warmupTime: 200 });
    bench.add(variant, hit);
    await bench.run();
    const result = bench.tasks[0]!.result as { latency?: { p50?: number } } | undefined;
    if (result?.latency?.p50 === undefined) throw new Error(`${variant}: tinybench gave no latency`);
    medians[variant]!.push(result.latency.p50 * 1e6);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`Node ${process.version}; ${values.rounds} interleaved rounds of ${values.time} ms; the sync cache-hit path on a filesystem-store manager`);
console.log(`with the version check:    median ${median(medians.checked!).toFixed(0)} ns per hit (rounds: ${medians.checked!.map((n) => n.toFixed(0)).join(', ')})`);
console.log(`without the version check: median ${median(medians.unchecked!).toFixed(0)} ns per hit (rounds: ${medians.unchecked!.map((n) => n.toFixed(0)).join(', ')})`);
console.log(`cookie: the token is ${cookieHeader.split('=')[1]!.length} characters; the login's Set-Cookie header is ${setCookie.length} bytes (${sink > 0})`);
await manager.close();
rmSync(dir, { recursive: true, force: true });
