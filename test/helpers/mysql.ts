/**
 * The MySQL tests' database: MYSQL_URL, exported by scripts/run-tests.mjs
 * (which starts a throwaway MariaDB when none is given) or by the developer.
 * Each test works in tables of its own, dropped afterwards.
 */
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createSessionManager, type SessionConfig, type SessionManager } from '../../src/index.ts';
import { MysqlStore, type MysqlStoreOptions } from '../../src/stores/mysql.ts';
import { FakeClock, testKey } from './manager.ts';

/** The server under test. Throws (never skips) when there is none: scripts/run-tests.mjs decides what runs. */
export function mysqlUrl(): string {
  const url = process.env.MYSQL_URL;
  if (!url) {
    throw new Error('MYSQL_URL is not set: run MySQL tests with `node scripts/run-tests.mjs FILE` (it starts a throwaway MariaDB) or export MYSQL_URL');
  }
  markMysqlTestRan();
  return url;
}

/** Proof for scripts/run-tests.mjs (REQUIRE_MYSQL=1) that MySQL tests really reached a server. */
export function markMysqlTestRan(): void {
  if (process.env.MYSQL_TESTS_MARKER) appendFileSync(process.env.MYSQL_TESTS_MARKER, `${process.pid}\n`);
}

/** A table name no other test uses. */
export function uniqueTable(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A direct connection for what the store must not be used for: seeding rows, holding locks, checking the server. */
export function adminConnection(url = mysqlUrl()): Promise<mysql.Connection> {
  return mysql.createConnection({ uri: url, multipleStatements: false });
}

export async function dropTable(table: string, url = mysqlUrl()): Promise<void> {
  const admin = await adminConnection(url);
  try {
    await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
  } finally {
    await admin.end();
  }
}

export interface MysqlFixture {
  readonly store: MysqlStore;
  readonly table: string;
  cleanup(): Promise<void>;
}

/** An opened MysqlStore on a fresh table of its own. */
export async function openMysqlStore(options: Partial<MysqlStoreOptions> = {}): Promise<MysqlFixture> {
  const url = options.uri ?? mysqlUrl();
  const table = options.table ?? uniqueTable();
  const store = new MysqlStore({ uri: url, table, operationTimeout: 5000, poolSize: 4, ...options });
  await store.open();
  return {
    store,
    table,
    cleanup: async () => {
      await store.close();
      await dropTable(table, url);
    },
  };
}

export interface MysqlManager {
  readonly manager: SessionManager;
  readonly clock: FakeClock;
  readonly key: Buffer;
}

/** A manager on storageType 'database' (MysqlStore behind the LRU cache) with an injected clock. */
export async function mysqlManager(table: string, overrides: Partial<SessionConfig> = {}, url = mysqlUrl()): Promise<MysqlManager> {
  const clock = new FakeClock();
  const key = (overrides.encryptionKey as Buffer | undefined) ?? testKey();
  const manager = await createSessionManager({
    storageType: 'database',
    database: { uri: url, table, operationTimeout: 5000, poolSize: 4 },
    encryptionKey: key,
    now: clock.read,
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
    ...overrides,
  });
  return { manager, clock, key };
}

/** Wall-clock duration of a call and how it ended, for deadline checks. */
export async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

export function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}
