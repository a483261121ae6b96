/**
 * The throwaway MariaDB the database cases run against: MYSQL_URL when given,
 * otherwise one started by the project's own scripts/mariadb.mjs (temp
 * datadir, private port). Our store and express-mysql-session share it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface MariaDb {
  readonly url: string;
  readonly options: { host: string; port: number; user: string; password: string; database: string };
  readonly origin: string;
  stop(): Promise<void>;
}

export type MariaDbOutcome = { ok: true; db: MariaDb } | { ok: false; reason: string };

function parse(url: string): MariaDb['options'] {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.replace(/^\//, ''),
  };
}

interface MariaDbScript {
  findMariaDb(): unknown;
  startMariaDb(options?: { dir?: string }): Promise<{ url: string; stop(options?: { remove?: boolean }): Promise<void> }>;
}

export async function startMariaDb(root: string): Promise<MariaDbOutcome> {
  // The runner already tried and failed: say why once, do not try again in every family.
  if (process.env.BENCH_NO_DATABASE) return { ok: false, reason: process.env.BENCH_NO_DATABASE };
  const given = process.env.MYSQL_URL;
  if (given) return { ok: true, db: { url: given, options: parse(given), origin: process.env.BENCH_DATABASE_ORIGIN ?? 'MYSQL_URL', stop: async () => {} } };
  const script = join(root, 'scripts', 'mariadb.mjs');
  if (!existsSync(script)) return { ok: false, reason: 'scripts/mariadb.mjs (the MySQL store issue) is not in this tree and MYSQL_URL is not set' };
  const mariadb = (await import(pathToFileURL(script).href)) as MariaDbScript;
  if (!mariadb.findMariaDb()) return { ok: false, reason: 'mariadbd is not installed (apt-get install mariadb-server) and MYSQL_URL is not set' };
  try {
    const server = await mariadb.startMariaDb();
    return {
      ok: true,
      db: { url: server.url, options: parse(server.url), origin: 'a throwaway MariaDB from scripts/mariadb.mjs', stop: () => server.stop({ remove: true }) },
    };
  } catch (error) {
    return { ok: false, reason: `scripts/mariadb.mjs could not start MariaDB: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** Drops the bench's own tables, so every run starts empty (also on a long-lived MYSQL_URL server). */
export async function dropTables(url: string, tables: readonly string[]): Promise<void> {
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection(url);
  try {
    for (const table of tables) {
      if (!/^bench_[a-z_]+$/.test(table)) throw new Error(`refusing to drop ${table}: the bench only drops its own bench_* tables`);
      await connection.query(`DROP TABLE IF EXISTS \`${table}\``);
    }
  } finally {
    await connection.end();
  }
}

/** "MariaDB 10.11.6" or similar, for the report's conditions. */
export async function serverVersion(url: string): Promise<string> {
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection(url);
  try {
    const [rows] = await connection.query('SELECT VERSION() AS v');
    return String((rows as { v: string }[])[0]?.v ?? 'unknown');
  } finally {
    await connection.end();
  }
}
