/**
 * Issue 5's measurement: ops/s through the manager with storageType
 * 'database' (MysqlStore behind the LRU cache) on a real MariaDB, for
 * create, load (cache hit and cache miss) and save, plus the load+save cycle,
 * beside the floor: the same INSERT and primary-key SELECT through a bare mysql2 pool.
 *
 *   node --import tsx scripts/measure-mysql-store.ts [--sessions 2000] [--concurrency 32] [--rounds 3]
 *
 * Uses MYSQL_URL when set, else starts a throwaway MariaDB (scripts/mariadb.mjs)
 * and stops it afterwards. Each round works on fresh sessions in a fresh table.
 * Reported: the median of the rounds; every result is checked before it is timed.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import mysql from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from './mariadb.mjs';
import { createSessionManager, type SessionManager } from '../src/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SESSIONS = option('sessions', 2000);
const CONCURRENCY = option('concurrency', 32);
const ROUNDS = option('rounds', 3);
const POOL = 10;
const ctx = { appendSetCookie: () => {}, userId: 'user-42', ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0 (measure)' };

/** A typical small session: about ten keys. */
function sessionData(i: number): Record<string, unknown> {
  return {
    userId: 42,
    name: 'Ada Lovelace',
    roles: ['user', 'editor'],
    locale: 'en-GB',
    cart: [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }],
    csrf: randomBytes(16).toString('base64url'),
    lastPage: `/products/${i}`,
    visits: i,
    flags: { beta: true, newsletter: false },
    loginAt: new Date(1_800_000_000_000),
  };
}

/** Runs fn(0..n-1) with at most `concurrency` in flight; resolves to elapsed ms. */
async function timedConcurrent(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return performance.now() - started;
}

function manager(url: string, table: string, key: Buffer, staleMs: number): Promise<SessionManager> {
  return createSessionManager({
    storageType: 'database',
    database: { uri: url, table, poolSize: POOL },
    encryptionKey: key,
    cache: { staleMs },
    cleanupInterval: 0,
  });
}

type Case =
  | 'create'
  | 'load (cache hit)'
  | 'load (cache miss)'
  | 'save'
  | 'load+save cycle (miss)'
  | 'floor: raw mysql2 INSERT (same row size)'
  | 'floor: raw mysql2 SELECT by primary key';

async function round(url: string): Promise<Record<Case, number>> {
  const table = `measure_${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32);
  // Warm: staleMs beyond the run, so every load of a session this node wrote is a cache hit.
  const warm = await manager(url, table, key, 3_600_000);
  // Cold: staleMs 0, every load asks MySQL (what a node sees for sessions another node wrote).
  const cold = await manager(url, table, key, 0);
  const ops: Partial<Record<Case, number>> = {};
  try {
    const ids: string[] = new Array(SESSIONS);
    const perSecond = (ms: number, n = SESSIONS) => (n / ms) * 1000;

    ops.create = perSecond(await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => void (ids[i] = (await warm.create(ctx)).id)));

    // Give every session its data once (untimed), then check a round trip before timing reads.
    await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => {
      const s = await warm.load(ctx, ids[i]!);
      Object.assign(s.data, sessionData(i));
      await warm.save(ctx, s);
    });
    const check = await cold.load(ctx, ids[7]!);
    if (check.data.visits !== 7 || (check.data.loginAt as Date).getTime() !== 1_800_000_000_000) throw new Error('round trip check failed');

    ops['load (cache hit)'] = perSecond(await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => void (await warm.load(ctx, ids[i]!))));
    ops['load (cache miss)'] = perSecond(await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => void (await cold.load(ctx, ids[i]!))));

    const loaded = await Promise.all(ids.map((id) => cold.load(ctx, id)));
    ops.save = perSecond(
      await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => {
        const s = loaded[i]!;
        s.data.visits = (s.data.visits as number) + 1;
        await cold.save(ctx, s);
      }),
    );
    ops['load+save cycle (miss)'] = perSecond(
      await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => {
        const s = await cold.load(ctx, ids[i]!);
        s.data.lastPage = `/cart/${i}`;
        await cold.save(ctx, s);
      }),
    );
    const after = await cold.load(ctx, ids[7]!);
    if (after.data.visits !== 8 || after.data.lastPage !== '/cart/7') throw new Error('save check failed');

    // The floor: the same statements straight through a mysql2 pool of the same size, no engine around them.
    const raw = mysql.createPool({ uri: url, connectionLimit: POOL });
    try {
      const [stored] = (await raw.query(`SELECT id, data FROM \`${table}\` LIMIT ${SESSIONS}`)) as unknown as [Array<{ id: Buffer; data: Buffer }>];
      const rawTable = `${table}_raw`;
      await raw.query(`CREATE TABLE \`${rawTable}\` LIKE \`${table}\``);
      ops['floor: raw mysql2 INSERT (same row size)'] = perSecond(
        await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => {
          const row = stored[i % stored.length]!;
          await raw.execute(`INSERT INTO \`${rawTable}\` (id, version, user_id, tenant_id, expires_at, data) VALUES (?, 1, NULL, NULL, ?, ?)`, [randomBytes(32), Date.now(), row.data]);
        }),
      );
      ops['floor: raw mysql2 SELECT by primary key'] = perSecond(
        await timedConcurrent(SESSIONS, CONCURRENCY, async (i) => {
          const [rows] = (await raw.execute(`SELECT version, user_id, tenant_id, expires_at, data FROM \`${table}\` WHERE id = ?`, [stored[i % stored.length]!.id])) as unknown as [unknown[]];
          if (rows.length !== 1) throw new Error('raw select check failed');
        }),
      );
      await raw.query(`DROP TABLE \`${rawTable}\``);
    } finally {
      await raw.end();
    }
  } finally {
    await Promise.all([warm.close(), cold.close()]);
    const admin = await mysql.createConnection(url);
    await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin.end();
  }
  return ops as Record<Case, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

let server: MariaDbServer | undefined;
let url = process.env.MYSQL_URL;
if (!url) {
  server = await startMariaDb();
  url = server.url;
}
try {
  const admin = await mysql.createConnection(url);
  const [[info]] = (await admin.query('SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush')) as unknown as [[{ version: string; flush: number }]];
  await admin.end();
  const results: Array<Record<Case, number>> = [];
  for (let r = 0; r < ROUNDS; r++) results.push(await round(url));
  console.log(`# rockstar-session database store (MysqlStore behind the LRU cache), ${new Date().toISOString()}`);
  console.log(
    `# Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim()}, MariaDB ${info.version} ` +
      `(${server ? 'throwaway on 127.0.0.1 TCP' : 'MYSQL_URL'}, innodb_flush_log_at_trx_commit=${info.flush}), ` +
      `pool ${POOL}, ${SESSIONS} sessions x ${CONCURRENCY} in flight, ~10-key session, crypto mode auto; median of ${ROUNDS} rounds`,
  );
  console.log('| operation | ops/s | µs per op (1 / throughput) | rounds |');
  console.log('|---|---:|---:|---|');
  for (const name of Object.keys(results[0]!) as Case[]) {
    const values = results.map((r) => r[name]);
    const m = median(values);
    console.log(`| ${name} | ${m.toFixed(0)} | ${(1e6 / m).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(', ')} |`);
  }
} finally {
  await server?.stop();
}
