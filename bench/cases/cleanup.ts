/**
 * Cleanup: how long cleanupExpired() takes to remove N expired sessions from
 * the database and filesystem stores, and what the p99 of concurrent
 * requests (manager load + save cycles in the same process) is meanwhile,
 * against the same requests just before cleanup started.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { SessionManager } from '../../src/index.ts';
import type { SessionStore } from '../../src/stores/store.ts';
import { benchContext, loginSessionData } from '../lib/engine.ts';
import { LatencyLoop, type LatencySummary } from '../lib/latency-loop.ts';
import { dropTables, startMariaDb } from '../lib/mariadb.ts';
import { databaseManager, filesystemManager, tempDir, type ManagerOutcome } from '../lib/our-stores.ts';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';
import { RoundRobin } from '../lib/id-pool.ts';

const REQUEST_CONCURRENCY = 8;
const SEALED_BYTES = 200;
const TABLE = 'bench_cleanup_sessions';

/** The store below the write-through cache: seeding through the cache would fill it with records nobody reads. */
/** The persistent store behind a manager's in-process tier (tier/sealed-store.ts keeps it as `backing`). */
function backingOf(store: object): SessionStore {
  const backing = (store as { backing?: SessionStore }).backing;
  if (!backing) throw new Error(`store ${String((store as { name?: string }).name)} has no persistent store behind it`);
  return backing;
}

async function seedThroughStore(store: SessionStore, count: number, progress: (line: string) => void): Promise<void> {
  const sealed = randomBytes(SEALED_BYTES);
  const expiresAt = Date.now() - 60_000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      if (i % 100_000 === 0 && i > 0) progress(`cleanup: seeded ${i.toLocaleString('en-US')} expired files`);
      await store.insert(randomBytes(32).toString('hex'), { expiresAt, userTag: null, tenantTag: null, sealed });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

async function seedDatabase(url: string, count: number, progress: (line: string) => void): Promise<void> {
  const connection = await mysql.createConnection(url);
  try {
    const data = randomBytes(SEALED_BYTES);
    const expiresAt = Date.now() - 60_000;
    const perStatement = 2000;
    for (let done = 0; done < count; done += perStatement) {
      const rows = Array.from({ length: Math.min(perStatement, count - done) }, () => [randomBytes(32), 1, null, null, expiresAt, data]);
      await connection.query(`INSERT INTO \`${TABLE}\` (id, version, user_id, tenant_id, expires_at, data) VALUES ?`, [rows]);
      if ((done / perStatement) % 100 === 0 && done > 0) progress(`cleanup: seeded ${done.toLocaleString('en-US')} expired rows`);
    }
  } finally {
    await connection.end();
  }
}

interface Target {
  readonly id: string;
  readonly label: string;
  readonly manager: () => Promise<ManagerOutcome>;
  readonly seed: (manager: SessionManager, count: number) => Promise<void>;
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('cleanup');
  // --quick scales down; the filesystem most, because seeding files and walking shard directories dominate its time.
  // BENCH_CLEANUP_COUNT overrides both (a full filesystem run seeds and walks a million files, which takes many minutes).
  const override = Number(process.env.BENCH_CLEANUP_COUNT) || 0;
  const counts: Record<string, number> = {
    database: override || (options.quick ? 20_000 : 1_000_000),
    filesystem: override || (options.quick ? 2_000 : 1_000_000),
  };
  const baselineMs = options.quick ? 1000 : 3000;
  const LIVE_SESSIONS = options.quick ? 100 : 500;
  const root = new URL('../..', import.meta.url).pathname;
  rec.conditions['expired sessions'] = `${Object.entries(counts).map(([store, n]) => `${store} ${n.toLocaleString('en-US')}`).join(', ')}${options.quick || override ? ' (scaled down from 1,000,000 each by --quick or BENCH_CLEANUP_COUNT; a full run without either measures a million)' : ''}, seeded below the manager (${SEALED_BYTES} B sealed record each)`;
  rec.conditions['concurrent requests'] = `${LIVE_SESSIONS} live sessions, ${REQUEST_CONCURRENCY} load + save cycles in flight in the same process as cleanup; p50/p99 over ${baselineMs} ms before cleanup, then over the whole cleanup`;
  rec.conditions['runs'] = 'one cleanup per store (seeding a million records takes longer than the cleanup itself)';

  const db = await startMariaDb(root);
  if (db.ok) await dropTables(db.db.url, [TABLE]);
  const fsDir = tempDir('cleanup-fs');
  const targets: Target[] = [
    {
      id: 'database',
      label: "ours: storageType 'database' (LIMITed DELETE batches, GET_LOCK)",
      manager: async () => (db.ok ? databaseManager(db.db.url, TABLE) : { ok: false, reason: db.reason }),
      seed: async (_manager, n) => seedDatabase(db.ok ? db.db.url : '', n, options.progress),
    },
    {
      id: 'filesystem',
      label: "ours: storageType 'filesystem' (header-only scan, bounded batches)",
      manager: () => filesystemManager(fsDir),
      seed: async (manager, n) => {
        // Seeding with fsync off, through a second manager on the same directory: only the cleanup is measured.
        const seeder = await filesystemManager(fsDir, { filesystem: { fsync: false } });
        if (!seeder.ok) throw new Error(seeder.reason);
        try {
          await seedThroughStore(backingOf(seeder.manager.store), n, options.progress);
        } finally {
          await seeder.manager.close();
        }
        void manager;
      },
    },
  ];

  try {
    // BENCH_CLEANUP_STORES=database (or filesystem) measures one store alone, e.g. for a full million-row run.
    const chosen = process.env.BENCH_CLEANUP_STORES?.split(',');
    for (const target of targets.filter((t) => !chosen || chosen.includes(t.id))) {
      const count = counts[target.id]!;
      const group = `${target.id}: cleanup of ${count.toLocaleString('en-US')} expired sessions`;
      options.progress(`cleanup: ${target.id}: setting up`);
      const outcome = await target.manager();
      if (!outcome.ok) {
        rec.notRun.push({ id: `cleanup.${target.id}.seconds`, label: target.label, group, reason: outcome.reason });
        continue;
      }
      const { manager } = outcome;
      try {
        options.progress(`cleanup: ${target.id}: seeding ${count.toLocaleString('en-US')} expired sessions`);
        const seedStart = Date.now();
        await target.seed(manager, count);
        const seedSeconds = (Date.now() - seedStart) / 1000;
        const ctx = benchContext();
        const ids: string[] = [];
        for (let i = 0; i < LIVE_SESSIONS; i++) {
          const session = await manager.create(ctx);
          session.data = loginSessionData(`live${i}`);
          await manager.save(ctx, session);
          ids.push(session.id);
        }
        const live = new RoundRobin(ids);
        const loop = new LatencyLoop(async () => {
          const session = await manager.load(ctx, live.next());
          session.data.visits = ((session.data.visits as number | undefined) ?? 0) + 1;
          await manager.save(ctx, session);
        }, REQUEST_CONCURRENCY);
        loop.start();
        await sleep(baselineMs);
        const before: LatencySummary = loop.window();
        options.progress(`cleanup: ${target.id}: cleaning (requests before: p99 ${before.p99.toFixed(1)} ms)`);
        const t0 = performance.now();
        const removed = await manager.cleanupExpired();
        const seconds = (performance.now() - t0) / 1000;
        const during = loop.window();
        await loop.stop();
        options.progress(`cleanup: ${target.id}: removed ${removed.toLocaleString('en-US')} in ${seconds.toFixed(1)} s; requests during: p99 ${during.p99.toFixed(1)} ms`);
        if (loop.firstError) rec.notes.push(`${target.id}: concurrent requests failed (${during.errors} during cleanup); the first: ${String((loop.firstError as Error)?.message ?? loop.firstError)}`);
        if (removed < count) rec.notes.push(`${target.id}: cleanupExpired() removed ${removed} of ${count} expired sessions in one call.`);
        rec.measurements.push(
          { id: `cleanup.${target.id}.seconds`, label: `${target.label}: time to clean`, group, ours: true, unit: 'ms', values: [seconds * 1000], higherIsBetter: false },
          { id: `cleanup.${target.id}.p99-before`, label: 'requests before cleanup: p99', group, ours: true, unit: 'ms', values: [before.p99], extra: { p50: [before.p50], opsPerSecond: [before.opsPerSecond], errors: [before.errors] }, higherIsBetter: false },
          { id: `cleanup.${target.id}.p99-during`, label: 'requests during cleanup: p99', group, ours: true, unit: 'ms', values: [during.p99], extra: { p50: [during.p50], opsPerSecond: [during.opsPerSecond], errors: [during.errors] }, higherIsBetter: false },
        );
        rec.notes.push(
          `${target.id}: removed ${removed.toLocaleString('en-US')} expired sessions in ${seconds.toFixed(1)} s (${Math.round(removed / seconds).toLocaleString('en-US')} per second; seeding took ${seedSeconds.toFixed(0)} s). ` +
            `Concurrent requests: p50 ${before.p50.toFixed(2)} → ${during.p50.toFixed(2)} ms, p99 ${before.p99.toFixed(2)} → ${during.p99.toFixed(2)} ms, ` +
            `${Math.round(before.opsPerSecond).toLocaleString('en-US')} → ${Math.round(during.opsPerSecond).toLocaleString('en-US')} cycles/s, errors ${before.errors} → ${during.errors}.`,
        );
      } catch (error) {
        rec.notRun.push({ id: `cleanup.${target.id}.seconds`, label: target.label, group, reason: `failed: ${(error as Error).message.split('\n')[0]}` });
      } finally {
        await outcome.cleanup();
      }
    }
  } finally {
    if (db.ok) await db.db.stop();
  }
  return rec.result();
}
