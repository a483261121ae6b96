/**
 * Deadlines around mysql2, because its own do not hold (both reproduced on
 * this project's machine): `timeout` does not cover a statement still being
 * prepared, and a connection that timed out can go back to the pool stuck,
 * so that later queries on it never end.
 *
 * So every wait is ours: waiting for a pool connection is bounded, and a
 * connection whose step misses its deadline is destroyed, never released,
 * whatever the driver would still do with it. Late driver callbacks are
 * ignored; callbacks (not promises) are used so that nothing is left to
 * reject unhandled.
 */
import type { PoolConnection } from 'mysql2';
import { leavesConnectionSound } from './mysql-errors.ts';

/** The `cause` of a SessionStoreError for a missed deadline. */
export class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/** Anything with mysql2's pool getConnection: a Pool, or a PoolCluster namespace (mysql-nodes.ts). */
export interface ConnectionPool {
  getConnection(callback: (error: NodeJS.ErrnoException | null, connection: PoolConnection) => void): void;
}

/** One pool connection held by one store operation. */
export class Lease {
  readonly connection: PoolConnection;
  /** The PoolCluster node it belongs to (undefined with a single server). */
  readonly node: string | undefined;
  #ended = false;

  constructor(connection: PoolConnection, node?: string) {
    this.connection = connection;
    this.node = node;
  }

  /** False once released or destroyed. */
  get held(): boolean {
    return !this.#ended;
  }

  /** Runs `step` on the connection; past `timeoutMs` the connection is destroyed and the step rejects with a DeadlineError. */
  run<T>(timeoutMs: number, step: (connection: PoolConnection) => Promise<T>): Promise<T> {
    if (this.#ended) return Promise.reject(new Error('this pool connection was already given back'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.destroy();
        reject(new DeadlineError(`no answer from the database within ${timeoutMs} ms; the connection was dropped`));
      }, timeoutMs);
      step(this.connection).then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          // An answer from the server (duplicate key, deadlock…) leaves the connection usable; anything else ends it.
          if (!leavesConnectionSound(error)) this.destroy();
          reject(error);
        },
      );
    });
  }

  /** Back to the pool (a no-op once destroyed). */
  release(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.connection.release();
  }

  /** Closes the socket; the pool replaces the connection on demand. */
  destroy(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.connection.destroy();
  }
}

/** A connection from the pool within `timeoutMs` (DeadlineError otherwise; a connection that arrives later goes straight back). */
export function acquire(pool: ConnectionPool, timeoutMs: number): Promise<PoolConnection> {
  return new Promise<PoolConnection>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new DeadlineError(`no database connection within ${timeoutMs} ms`));
    }, timeoutMs);
    pool.getConnection((error, connection) => {
      if (settled) {
        if (!error && connection) connection.release();
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(connection);
    });
  });
}

/** Promise form of a prepared statement (mysql2 prepares once per connection and caches it). */
export function execute<T>(connection: PoolConnection, sql: string, values: readonly unknown[], rowsAsArray = false): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    connection.execute({ sql, rowsAsArray }, values as never, (error, result) => {
      if (error) reject(error);
      else resolve(result as T);
    });
  });
}

/** Promise form of a text-protocol query: DDL (which some servers refuse to prepare) and rare statements not worth a prepared statement per connection. */
export function query<T>(connection: PoolConnection, sql: string, values: readonly unknown[] = [], rowsAsArray = false): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    connection.query({ sql, rowsAsArray }, values as never, (error, result) => {
      if (error) reject(error);
      else resolve(result as T);
    });
  });
}
