/**
 * The Galera tests' cluster: GALERA_URLS (one mysql:// URL per node,
 * space-separated), exported by scripts/run-tests.mjs, which starts a
 * throwaway 3-node cluster (scripts/galera.mjs) when none is given, or by the
 * developer (`eval "$(node scripts/galera.mjs start)"`). Tests that kill
 * nodes start a cluster of their own (galera-failover.test.ts).
 */
import { appendFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { createSessionManager, type SessionConfig, type SessionManager } from '../../src/index.ts';
import { FakeClock, testKey } from './manager.ts';

/** Proof for scripts/run-tests.mjs (REQUIRE_MYSQL=1) that the Galera tests really reached a cluster. */
export function markGaleraTestRan(): void {
  if (process.env.GALERA_TESTS_MARKER) appendFileSync(process.env.GALERA_TESTS_MARKER, `${process.pid}\n`);
}

/** The shared cluster's node URLs. Throws (never skips) when there is none: scripts/run-tests.mjs decides what runs. */
export function galeraUrls(): string[] {
  const urls = (process.env.GALERA_URLS ?? '').split(/\s+/).filter(Boolean);
  if (urls.length < 2) {
    throw new Error('GALERA_URLS is not set: run Galera tests with `node scripts/run-tests.mjs FILE` (it starts a throwaway cluster) or export GALERA_URLS');
  }
  markGaleraTestRan();
  return urls;
}

/**
 * Waits until the node behind `url` has applied every write the cluster
 * committed before this call (a causal read, wsrep_sync_wait): afterwards
 * every session on that node sees them. A test checks outcomes this way, not
 * by sleeping.
 */
export async function untilApplied(url: string, table: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    await connection.query('SET SESSION wsrep_sync_wait = 1');
    await connection.query(`SELECT COUNT(*) FROM \`${table}\``);
  } finally {
    await connection.end();
  }
}

/** Polls a node until Galera reports a cluster of `size` (after a kill: until the survivors have evicted the dead node). */
export async function untilClusterSize(url: string, size: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await statusOf(url, 'wsrep_cluster_size')) === size) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the cluster did not reach ${size} nodes within ${timeoutMs} ms`);
}

export async function dropTableOn(url: string, table: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    await connection.query(`DROP TABLE IF EXISTS \`${table}\``);
  } finally {
    await connection.end();
  }
}

/** One global status counter of one node (e.g. Com_update: statements its own clients ran, not replicated ones). */
export async function statusOf(url: string, name: string): Promise<number> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await connection.query('SHOW GLOBAL STATUS LIKE ?', [name]);
    return Number((rows as Array<{ Value: string }>)[0]?.Value ?? NaN);
  } finally {
    await connection.end();
  }
}

export interface AppNode {
  readonly manager: SessionManager;
  readonly clock: FakeClock;
}

/**
 * An app node: a manager on storageType 'database' whose `database` option
 * is given whole (a uri, or nodes), on `table`, with the write-through cache
 * as users run it (staleMs given by the test).
 */
export async function appNode(database: Record<string, unknown>, table: string, key: Buffer, overrides: Partial<SessionConfig> = {}): Promise<AppNode> {
  const clock = new FakeClock();
  const manager = await createSessionManager({
    storageType: 'database',
    database: { table, poolSize: 4, operationTimeout: 10_000, ...database },
    encryptionKey: key,
    now: clock.read,
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
    cache: { staleMs: 1000 },
    ...overrides,
  });
  return { manager, clock };
}

export { testKey };
