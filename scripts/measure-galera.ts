/**
 * Issue 12's measurement: update throughput through two app nodes (two
 * managers with storageType 'database', each with its own pool and LRU),
 * on a 3-node Galera cluster (app node A on database node 1, B on node 2)
 * against the same two app nodes on one MariaDB.
 *
 *   node --import tsx scripts/measure-galera.ts [--updates 2000] [--concurrency 16] [--sessions 200] [--rounds 3] [--shared 0]
 *
 * Each app node runs `--updates` manager.update() calls (increment one key)
 * with `--concurrency` in flight, both at once, over `--sessions` sessions:
 * app node A on the first half, B on the second, so that they never write
 * the same session, except that a fraction `--shared` (0 to 1) of the calls
 * go to sessions both write (then compare-and-swap conflicts: on Galera,
 * certification failures, retried). Rounds alternate single, Galera,
 * single, …; the median is reported. Every round is checked before it
 * counts: every counter holds exactly the increments acknowledged.
 *
 * Uses MYSQL_URL and GALERA_URLS when set, else starts a throwaway MariaDB
 * (scripts/mariadb.mjs) and a throwaway cluster (scripts/galera.mjs), and
 * stops them afterwards.
 */
import { cpus } from 'node:os';
import mysql from 'mysql2/promise';
import { startGaleraCluster, type GaleraCluster } from './galera.mjs';
import { startMariaDb, type MariaDbServer } from './mariadb.mjs';
import { createSessionManager, type SessionManager } from '../src/index.ts';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const UPDATES = option('updates', 2000);
const CONCURRENCY = option('concurrency', 16);
const SESSIONS = option('sessions', 200);
const ROUNDS = option('rounds', 3);
const SHARED = option('shared', 0);
const POOL = 10;
const ctx = { appendSetCookie: () => {} };

type Target = 'single MariaDB' | 'Galera, 3 nodes';

interface Outcome {
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

function appNode(url: string, table: string, key: Buffer): Promise<SessionManager> {
  return createSessionManager({
    storageType: 'database',
    database: { uri: url, table, poolSize: POOL, operationTimeout: 10_000 },
    encryptionKey: key,
    cleanupInterval: 0,
    crypto: { mode: 'auto' },
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** At most `concurrency` calls of fn in flight, `n` in all; the latency of each in ms. */
async function drive(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        const started = performance.now();
        await fn(i);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

async function causallyRead(url: string, table: string): Promise<void> {
  const connection = await mysql.createConnection(url);
  try {
    // On Galera: wait until this node has applied every commit so far; elsewhere a no-op.
    const [rows] = await connection.query("SHOW VARIABLES LIKE 'wsrep_on'");
    if ((rows as Array<{ Value: string }>)[0]?.Value === 'ON') await connection.query('SET SESSION wsrep_sync_wait = 1');
    await connection.query(`SELECT COUNT(*) FROM \`${table}\``);
  } finally {
    await connection.end();
  }
}

async function round(target: Target, urls: [string, string]): Promise<Outcome> {
  const table = `measure_galera_${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32);
  const [a, b] = [await appNode(urls[0], table, key), await appNode(urls[1], table, key)];
  try {
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i++) ids.push((await a.create(ctx)).id);
    await causallyRead(urls[1], table);
    const half = SESSIONS >> 1;
    const shared = Math.max(1, Math.floor(SESSIONS / 20));
    const acknowledged = new Map<string, number>();
    let failures = 0;
    // A picks from the first half, B from the second; a `SHARED` fraction of calls go to the first `shared` sessions, which both write.
    const work = (node: SessionManager, offset: number) => async (i: number) => {
      const pickShared = SHARED > 0 && (i * 7919) % 1000 < SHARED * 1000;
      const id = pickShared ? ids[i % shared]! : ids[offset + (i % (half - shared)) + (offset === 0 ? shared : 0)]!;
      try {
        await node.update(id, 'n', (n) => ((n as number | undefined) ?? 0) + 1);
        acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
      } catch {
        failures++;
      }
    };
    // Warm-up: both caches hold every session, every pool connection has its statements prepared.
    await drive(SESSIONS, CONCURRENCY, async (i) => void (await (i < half ? a : b).load(ctx, ids[i]!)));
    acknowledged.clear();
    const started = performance.now();
    const [latA, latB] = await Promise.all([drive(UPDATES, CONCURRENCY, work(a, 0)), drive(UPDATES, CONCURRENCY, work(b, half))]);
    const elapsed = performance.now() - started;
    // Check before it counts: every counter holds exactly what was acknowledged.
    await causallyRead(urls[0], table);
    const reader = await appNode(urls[0], table, key);
    try {
      for (const [id, count] of acknowledged) {
        const value = await reader.get(id, 'n');
        if (value !== count) throw new Error(`${target}: a counter holds ${String(value)}, ${count} increments were acknowledged`);
      }
    } finally {
      await reader.close();
    }
    const sorted = [...latA, ...latB].sort((x, y) => x - y);
    return { opsPerSecond: (2 * UPDATES - failures) / (elapsed / 1000), p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), failures };
  } finally {
    await Promise.all([a.close(), b.close()]);
    const admin = await mysql.createConnection(urls[0]);
    await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin.end();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1]!;
}

let server: MariaDbServer | undefined;
let cluster: GaleraCluster | undefined;
try {
  let single = process.env.MYSQL_URL;
  if (!single) {
    server = await startMariaDb();
    single = server.url;
  }
  let galera = (process.env.GALERA_URLS ?? '').split(/\s+/).filter(Boolean);
  if (galera.length < 2) {
    cluster = await startGaleraCluster();
    galera = [...cluster.urls];
  }
  const targets: Array<[Target, [string, string]]> = [
    ['single MariaDB', [single, single]],
    ['Galera, 3 nodes', [galera[0]!, galera[1]!]],
  ];
  const results = new Map<Target, Outcome[]>(targets.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, urls] of targets) results.get(name)!.push(await round(name, urls));
  }
  console.log(`# rockstar-session: update throughput through two app nodes, ${new Date().toISOString()}`);
  console.log(
    `# Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim()}; every server on this machine (127.0.0.1 TCP); ` +
      `${UPDATES} updates per app node, ${CONCURRENCY} in flight each, ${SESSIONS} sessions, shared fraction ${SHARED}, pool ${POOL}; median of ${ROUNDS} rounds`,
  );
  console.log('| target | updates/s (both app nodes) | p50 ms | p99 ms | failed | rounds (updates/s) |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const [name] of targets) {
    const outcomes = results.get(name)!;
    const pick = (f: (o: Outcome) => number) => median(outcomes.map(f));
    console.log(
      `| ${name} | ${pick((o) => o.opsPerSecond).toFixed(0)} | ${pick((o) => o.p50).toFixed(1)} | ${pick((o) => o.p99).toFixed(1)} | ` +
        `${outcomes.reduce((sum, o) => sum + o.failures, 0)} | ${outcomes.map((o) => o.opsPerSecond.toFixed(0)).join(', ')} |`,
    );
  }
  const ratio = median(results.get('Galera, 3 nodes')!.map((o) => o.opsPerSecond)) / median(results.get('single MariaDB')!.map((o) => o.opsPerSecond));
  console.log(`# Galera / single: ${ratio.toFixed(2)}x`);
  // For `npm run bench` (bench/cases/galera.ts): the per-round figures, on one line.
  const perRound = (name: Target) => results.get(name)!.map((o) => Math.round(o.opsPerSecond));
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      measurements: [
        { id: 'galera.update.single', label: 'a single MariaDB, two app nodes', values: perRound('single MariaDB') },
        { id: 'galera.update.cluster', label: '3-node Galera cluster, app nodes on different database nodes', values: perRound('Galera, 3 nodes') },
      ],
      conditions: { 'galera workload': `${UPDATES} updates per app node, ${CONCURRENCY} in flight each, ${SESSIONS} sessions, shared fraction ${SHARED}, pool ${POOL}; ${ROUNDS} interleaved rounds; every server on this machine` },
    })}`,
  );
} finally {
  await Promise.all([server?.stop(), cluster?.stop()]);
}
