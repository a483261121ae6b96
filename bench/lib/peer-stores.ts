/**
 * express-session stores, driven through their own callback API the way
 * express-session drives them (get, then set of the whole session object).
 */
import { createRequire } from 'node:module';
import { loginSessionData } from './engine.ts';

const require = createRequire(import.meta.url);

type Callback<T = unknown> = (error: unknown, value?: T) => void;

export interface ExpressStore {
  get(sid: string, cb: Callback<Record<string, unknown> | null>): void;
  set(sid: string, session: Record<string, unknown>, cb: Callback): void;
  destroy(sid: string, cb: Callback): void;
  close?(): unknown;
  stopInterval?(): void;
}

export interface PromisedStore {
  readonly raw: ExpressStore;
  get(sid: string): Promise<Record<string, unknown> | null>;
  set(sid: string, session: Record<string, unknown>): Promise<void>;
}

export function promised(store: ExpressStore): PromisedStore {
  return {
    raw: store,
    get: (sid) => new Promise((resolve, reject) => store.get(sid, (error, value) => (error ? reject(error) : resolve(value ?? null)))),
    set: (sid, session) => new Promise((resolve, reject) => store.set(sid, session, (error) => (error ? reject(error) : resolve()))),
  };
}

/** The object express-session hands its store: the data plus its cookie block. */
export function expressSessionObject(username: string): Record<string, unknown> {
  const maxAge = 86_400_000;
  return {
    cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge).toISOString(), httpOnly: true, path: '/' },
    ...loginSessionData(username),
  };
}

/** express-session's module: each store package is a factory over it. */
export function expressSession(): unknown {
  return require('express-session');
}

export function memorystore(): ExpressStore {
  const MemoryStore = require('memorystore')(expressSession());
  // checkPeriod prunes expired entries; a day keeps the timer out of the measurement.
  return new MemoryStore({ checkPeriod: 86_400_000 });
}

export function sessionFileStore(path: string): ExpressStore {
  const FileStore = require('session-file-store')(expressSession());
  // Default options otherwise (write-file-atomic, fsync on), the way people deploy it.
  return new FileStore({ path, logFn: () => {}, reapInterval: -1 });
}

export const EXPRESS_MYSQL_TABLE = 'bench_express_mysql_sessions';

export function expressMysqlSession(options: { host: string; port: number; user: string; password: string; database: string }): ExpressStore {
  const MySQLStore = require('express-mysql-session')(expressSession());
  return new MySQLStore({ ...options, createDatabaseTable: true, clearExpired: false, schema: { tableName: EXPRESS_MYSQL_TABLE } });
}
