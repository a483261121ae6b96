/**
 * Measures the filesystem store: ops/s of the store alone and through the
 * manager (create, load from the LRU, load through to disk, save), and the
 * time cleanup takes over 100k expired record files; with fsync on and off.
 *
 *   node --import tsx scripts/measure-fs-store.ts [--records 100000] [--seconds 2] [--concurrency 32] [--dir /path]
 *
 * Every case checks its results before it is timed (reads return the bytes
 * written, cleanup removes exactly the expired records).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rename, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSessionManager, type SessionManager } from '../src/index.ts';
import { FilesystemStore } from '../src/stores/fs.ts';
import type { RecordWrite } from '../src/stores/store.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '32' },
    dir: { type: 'string' },
  },
});
const RECORDS = Number(values.records);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const T0 = Date.now();
const ctx = { appendSetCookie: () => {} };

function key(): string {
  return randomBytes(32).toString('hex');
}

function write(expiresAt = T0 + 3_600_000): RecordWrite {
  // ~ a sealed 10-key session: 400 bytes.
  return { expiresAt, userTag: null, tenantTag: null, sealed: randomBytes(400) };
}

/** Runs `op(i)` from CONCURRENCY loops for about SECONDS; resolves to ops/s. */
async function rate(op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const until = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) await op(next++);
    }),
  );
  return next / ((performance.now() - start) / 1000);
}

async function root(base: string, label: string): Promise<string> {
  return mkdtemp(join(base, `rockstar-measure-${label}-`));
}

function fsType(path: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path]).toString().trim();
  } catch {
    return 'unknown';
  }
}

const rows: Array<{ case: string; fsync: string; result: string }> = [];
function report(name: string, fsync: boolean, result: string): void {
  rows.push({ case: name, fsync: fsync ? 'on' : 'off', result });
  console.log(`${name.padEnd(44)} fsync ${fsync ? 'on ' : 'off'}  ${result}`);
}

/**
 * The floor under any atomic-write file store on this disk: open, write,
 * (fdatasync), close, rename, in one directory, no reads, no checks.
 */
async function floorCase(base: string, fsync: boolean): Promise<void> {
  const path = await root(base, 'floor');
  const bytes = randomBytes(500);
  const rawWrite = await rate(async (i) => {
    const handle = await open(join(path, `t${i}`), 'wx');
    await handle.write(bytes);
    if (fsync) await handle.datasync();
    await handle.close();
    await rename(join(path, `t${i}`), join(path, `f${i}`));
  });
  report('floor: raw write + rename (no store)', fsync, `${rawWrite.toFixed(0)} ops/s`);
  await rm(path, { recursive: true, force: true });
}

async function storeCases(base: string, fsync: boolean): Promise<void> {
  const path = await root(base, 'store');
  const store = new FilesystemStore({ path, fsync });
  await store.open();
  const keys: string[] = [];
  const first = write();
  const probe = key();
  assert.equal(await store.insert(probe, first), true);
  assert.deepEqual(Buffer.from((await store.find(probe))!.sealed), Buffer.from(first.sealed));

  const insert = await rate(async () => {
    const k = key();
    await store.insert(k, write());
    keys.push(k);
  });
  report('store insert (create)', fsync, `${insert.toFixed(0)} ops/s`);
  const hit = await rate((i) => store.find(keys[i % keys.length]!));
  report('store find, present (disk read)', fsync, `${hit.toFixed(0)} ops/s`);
  const miss = await rate(() => store.find(key()));
  report('store find, absent', fsync, `${miss.toFixed(0)} ops/s`);
  const versions = new Map<string, number>();
  const update = await rate(async (i) => {
    // Each loop owns its keys, so every update is a CAS that succeeds.
    const k = keys[i % keys.length]!;
    const v = versions.get(k) ?? 1;
    versions.set(k, v + 1);
    assert.equal(await store.update(k, v, write()), true);
  });
  report('store update (save, CAS)', fsync, `${update.toFixed(0)} ops/s`);
  const touch = await rate((i) => store.touch(keys[i % keys.length]!, T0 + 7_200_000));
  report('store touch (refresh)', fsync, `${touch.toFixed(0)} ops/s`);
  await store.close();
  await rm(path, { recursive: true, force: true });
}

async function managerCases(base: string, fsync: boolean): Promise<void> {
  const path = await root(base, 'manager');
  const encryptionKey = randomBytes(32);
  const open = (staleMs: number): Promise<SessionManager> =>
    createSessionManager({ storageType: 'filesystem', filesystemPath: path, filesystem: { fsync }, encryptionKey, cleanupInterval: 0, crypto: { mode: 'inline' }, cache: { staleMs } });
  const manager = await open(60_000);
  const ids: string[] = [];
  const create = await rate(async () => {
    const session = await manager.create(ctx);
    ids.push(session.id);
  });
  report('manager create', fsync, `${create.toFixed(0)} ops/s`);
  const checked = await manager.load(ctx, ids[0]!);
  assert.equal(checked.id, ids[0]);
  const hit = await rate((i) => manager.load(ctx, ids[i % ids.length]!));
  report('manager load, LRU hit', fsync, `${hit.toFixed(0)} ops/s`);
  // A second manager with staleMs 0: every load goes through to disk (a miss in its cache).
  const cold = await open(0);
  const miss = await rate((i) => cold.load(ctx, ids[i % ids.length]!));
  report('manager load, through to disk', fsync, `${miss.toFixed(0)} ops/s`);
  const save = await rate(async (i) => {
    // One loop per id slice: the save never waits on another of this process's writers.
    await manager.set(ids[i % ids.length]!, 'n', i);
  });
  report('manager set (load + save)', fsync, `${save.toFixed(0)} ops/s`);
  await cold.close();
  await manager.close();
  await rm(path, { recursive: true, force: true });
}

/** The longest gap between 5 ms timer ticks over `ms` while this process does nothing else. */
async function longestTimerGap(ms: number): Promise<number> {
  let maxGap = 0;
  let last = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 5);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(watch);
  return maxGap;
}

async function cleanupCase(base: string, fsync: boolean): Promise<void> {
  const path = await root(base, 'cleanup');
  // Files are written without fsync (setup only); cleanup then runs with the mode measured.
  const setup = new FilesystemStore({ path, fsync: false });
  await setup.open();
  let made = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (made < RECORDS) {
        made++;
        await setup.insert(key(), write(T0 - 1000));
      }
    }),
  );
  const live = Array.from({ length: 100 }, key);
  for (const k of live) await setup.insert(k, write());
  const setupMs = performance.now() - started;
  const store = new FilesystemStore({ path, fsync });
  await store.open();
  // On a shared box timers slip even in an idle process: measure that first, so the gap below means something.
  const idleGapMs = await longestTimerGap(2000);
  let maxGapMs = 0;
  let last = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const begin = performance.now();
  const removed = await store.deleteExpired(T0);
  const cleanupMs = performance.now() - begin;
  clearInterval(watch);
  assert.equal(removed, RECORDS);
  for (const k of live) assert.ok(await store.find(k));
  report(`cleanup of ${RECORDS} expired files`, fsync, `${(cleanupMs / 1000).toFixed(2)} s (${(RECORDS / (cleanupMs / 1000)).toFixed(0)} files/s; longest event-loop gap ${maxGapMs.toFixed(0)} ms, idle ${idleGapMs.toFixed(0)} ms; setup ${(setupMs / 1000).toFixed(1)} s)`);
  await store.close();
  await rm(path, { recursive: true, force: true });
}

const base = values.dir ?? tmpdir();
console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${base} on ${fsType(base)}, concurrency ${CONCURRENCY}, ${SECONDS} s per case, 400-byte sealed records`);
for (const fsync of [false, true]) {
  await floorCase(base, fsync);
  await storeCases(base, fsync);
  await managerCases(base, fsync);
  await cleanupCase(base, fsync);
}
console.table(rows);
