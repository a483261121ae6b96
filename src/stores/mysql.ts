/**
 * The `database` backend: one InnoDB table on any MySQL-protocol server,
 * reached through a mysql2 pool with server-side prepared statements.
 * The DDL and what is guaranteed across nodes are in README-mysql.md.
 *
 * - insert is a plain INSERT (a duplicate key answers false: never an upsert);
 *   update is `UPDATE … WHERE id = ? AND version = ?`; touch sets expires_at only.
 *   Every write is one autocommitted statement, so it is whole or absent,
 *   and once acknowledged it survives a server crash (InnoDB with its
 *   default innodb_flush_log_at_trx_commit=1).
 * - Every operation has its own deadline (database.operationTimeout) covering
 *   the wait for a connection and the statement; see mysql-deadline.ts.
 *   An outage fails calls with ERR_SESSION_STORE; the pool reconnects when
 *   the server is back.
 * - deleteExpired deletes in LIMITed batches with a pause between them, on
 *   one node at a time (GET_LOCK with no wait: a node that finds the lock
 *   taken answers 0).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql, { type Pool, type PoolConnection, type PoolOptions, type ResultSetHeader } from 'mysql2';
import type { DatabaseOptions } from './mysql-options.ts';
import { asStoreError, SessionClosedError, SessionStoreError } from '../errors.ts';
import { CLEANUP_BATCH } from './batches.ts';
import { COLUMNS_SQL, createTableSql, schemaProblems, type ColumnRow } from './mysql-ddl.ts';
import { acquire, execute, query, type Lease } from './mysql-deadline.ts';
import { isStoreKey, type KeyedRecord, type RecordWrite, type SessionStore, type StoredRecord, type StoreKey } from './store.ts';

const TAG = /^[0-9a-f]{32}$/;
const DUPLICATE_KEY = 1062;

export interface MysqlStoreOptions extends DatabaseOptions {
  /** Rows per cleanup DELETE. Default 1000. */
  readonly cleanupBatch?: number;
  /** Pause between cleanup batches in ms, so other writers get the index between them. Default 10. */
  readonly cleanupPauseMs?: number;
}

/** The GET_LOCK name for one table's cleanup; lock names are server-wide and at most 64 characters. */
export function cleanupLockName(database: string, table: string): string {
  return `rockstar_session:${createHash('sha1').update(`${database}.${table}`).digest('hex')}`;
}

type Row = [version: number, userId: Buffer | null, tenantId: Buffer | null, expiresAt: number, data: Buffer];
type KeyedRow = [id: Buffer, ...Row];

function recordFrom(row: Row): StoredRecord {
  return {
    version: Number(row[0]),
    userTag: row[1] === null ? null : row[1].toString('hex'),
    tenantTag: row[2] === null ? null : row[2].toString('hex'),
    expiresAt: Number(row[3]),
    sealed: row[4],
  };
}

function keyBytes(key: StoreKey): Buffer {
  if (!isStoreKey(key)) throw new SessionStoreError('store key must be 64 lowercase hex characters');
  return Buffer.from(key, 'hex');
}

function tagBytes(tag: string | null): Buffer | null {
  if (tag === null) return null;
  if (!TAG.test(tag)) throw new SessionStoreError('user and tenant tags must be 32 lowercase hex characters');
  return Buffer.from(tag, 'hex');
}

/** Our own options are not mysql2's: mysql2 complains about options it does not know. */
function poolOptions(options: MysqlStoreOptions, operationTimeout: number, poolSize: number): PoolOptions {
  const { uri, table, poolSize: _p, operationTimeout: _o, createTable, cleanupBatch, cleanupPauseMs, ...driver } = options;
  const connectTimeout = typeof driver.connectTimeout === 'number' ? Math.min(driver.connectTimeout, operationTimeout) : operationTimeout;
  return {
    ...(driver as PoolOptions),
    ...(uri === undefined ? {} : { uri }),
    connectionLimit: poolSize,
    // No idle reaper: its timer would keep the process alive and churn connections.
    maxIdle: poolSize,
    waitForConnections: true,
    queueLimit: 0,
    connectTimeout,
    enableKeepAlive: true,
    // BIGINT columns (version, expires_at) stay below 2^53: plain numbers.
    supportBigNumbers: false,
    bigNumberStrings: false,
    namedPlaceholders: false,
    multipleStatements: false,
  };
}

export class MysqlStore implements SessionStore {
  readonly name = 'database';
  readonly table: string;
  readonly #timeout: number;
  readonly #lockWaitSeconds: number;
  readonly #createTable: boolean;
  readonly #cleanupBatch: number;
  readonly #cleanupPauseMs: number;
  readonly #pool: Pool;
  /** Every connection the pool made, so close() can drop the ones a frozen server never lets end. */
  readonly #connections = new Set<PoolConnection>();
  readonly #sql: Readonly<Record<'find' | 'insert' | 'update' | 'touch' | 'delete' | 'deleteExpired', string>>;
  #lockName = '';
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: MysqlStoreOptions) {
    this.table = options.table ?? 'rockstar_sessions';
    this.#timeout = options.operationTimeout ?? 5000;
    this.#lockWaitSeconds = Math.max(1, Math.ceil(this.#timeout / 1000));
    this.#createTable = options.createTable ?? true;
    this.#cleanupBatch = options.cleanupBatch ?? CLEANUP_BATCH;
    this.#cleanupPauseMs = options.cleanupPauseMs ?? 10;
    const t = `\`${this.table}\``;
    this.#sql = {
      find: `SELECT version, user_id, tenant_id, expires_at, data FROM ${t} WHERE id = ?`,
      insert: `INSERT INTO ${t} (id, version, user_id, tenant_id, expires_at, data) VALUES (?, 1, ?, ?, ?, ?)`,
      update: `UPDATE ${t} SET version = version + 1, user_id = ?, tenant_id = ?, expires_at = ?, data = ? WHERE id = ? AND version = ?`,
      touch: `UPDATE ${t} SET expires_at = ? WHERE id = ?`,
      delete: `DELETE FROM ${t} WHERE id = ?`,
      // The batch size is part of the text (an integer we chose), not a parameter: MySQL 8 refuses some LIMIT ? bindings.
      deleteExpired: `DELETE FROM ${t} WHERE expires_at <= ? LIMIT ${this.#cleanupBatch}`,
    };
    this.#pool = mysql.createPool(poolOptions(options, this.#timeout, options.poolSize ?? 10));
    this.#pool.on('connection', (connection) => this.#track(connection));
  }

  #track(connection: PoolConnection): void {
    this.#connections.add(connection);
    // An idle connection that loses its server emits 'error'. That is expected
    // during an outage: the pool drops it and the next operation reports the
    // failure to its caller. Without a listener it would crash the process.
    connection.on('error', () => {});
    // A statement we gave up on must not wait on row locks far beyond its deadline on the server either
    // (the server does not notice the dropped socket while it waits). Queued before the caller's first statement.
    connection.query(`SET SESSION innodb_lock_wait_timeout = ${this.#lockWaitSeconds}`, () => {});
    const socket = (connection as unknown as { stream?: NodeJS.EventEmitter }).stream;
    socket?.once('close', () => this.#connections.delete(connection));
  }

  /**
   * Leases one pool connection (the wait counts against the operation's deadline), hands it to `use`
   * with the time left, and releases it; every failure becomes ERR_SESSION_STORE.
   */
  async #withLease<T>(operation: string, use: (lease: Lease, remainingMs: number) => Promise<T>): Promise<T> {
    if (this.#closed) throw new SessionClosedError('session store is closed');
    const started = performance.now();
    let lease: Lease;
    try {
      lease = await acquire(this.#pool, this.#timeout);
    } catch (error) {
      throw asStoreError(operation, error);
    }
    try {
      return await use(lease, Math.max(1, this.#timeout - (performance.now() - started)));
    } catch (error) {
      throw asStoreError(operation, error);
    } finally {
      lease.release();
    }
  }

  /** Runs `step` on one pool connection under the operation deadline. */
  #withConnection<T>(operation: string, step: (connection: PoolConnection) => Promise<T>): Promise<T> {
    return this.#withLease(operation, (lease, remainingMs) => lease.run(remainingMs, step));
  }

  open(): Promise<void> {
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw asStoreError('open', error);
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    await this.#withConnection('open', async (connection) => {
      const [current] = await query<Array<{ db: string | null }>>(connection, 'SELECT DATABASE() AS db');
      const database = current?.db;
      if (!database) throw new SessionStoreError('no database selected: name one in database.uri (mysql://…/dbname) or database.database');
      if (this.#createTable) await query(connection, createTableSql(this.table));
      const problems = schemaProblems(await execute<ColumnRow[]>(connection, COLUMNS_SQL, [this.table]));
      if (problems.length > 0) {
        const hint = this.#createTable ? '' : ' (database.createTable is false: create it with the DDL in src/stores/README-mysql.md)';
        throw new SessionStoreError(`table \`${database}\`.\`${this.table}\` does not fit the session store: ${problems.join('; ')}${hint}`);
      }
      this.#lockName = cleanupLockName(database, this.table);
    });
  }

  // Keys and tags are checked before a connection is taken: a bad one is a caller's bug, not the connection's.

  async find(key: StoreKey): Promise<StoredRecord | null> {
    const id = keyBytes(key);
    return this.#withConnection('find', async (connection) => {
      const rows = await execute<Row[]>(connection, this.#sql.find, [id], true);
      return rows[0] ? recordFrom(rows[0]) : null;
    });
  }

  async insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    const values = [keyBytes(key), tagBytes(write.userTag), tagBytes(write.tenantTag), write.expiresAt, write.sealed];
    return this.#withConnection('insert', async (connection) => {
      try {
        await execute<ResultSetHeader>(connection, this.#sql.insert, values);
        return true;
      } catch (error) {
        if ((error as { errno?: number }).errno === DUPLICATE_KEY) return false;
        throw error;
      }
    });
  }

  async update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    const values = [tagBytes(write.userTag), tagBytes(write.tenantTag), write.expiresAt, write.sealed, keyBytes(key), expectedVersion];
    return this.#withConnection('update', async (connection) => {
      const result = await execute<ResultSetHeader>(connection, this.#sql.update, values);
      return result.affectedRows === 1;
    });
  }

  async touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    const id = keyBytes(key);
    return this.#withConnection('touch', async (connection) => {
      // mysql2 sets CLIENT_FOUND_ROWS: affectedRows counts the matched row even when expires_at was already this value.
      const result = await execute<ResultSetHeader>(connection, this.#sql.touch, [expiresAt, id]);
      return result.affectedRows === 1;
    });
  }

  async delete(key: StoreKey): Promise<void> {
    const id = keyBytes(key);
    await this.#withConnection('delete', (connection) => execute<ResultSetHeader>(connection, this.#sql.delete, [id]));
  }

  async deleteExpired(now: number): Promise<number> {
    return this.#withLease('deleteExpired', async (lease, lockDeadline) => {
      // Taking the connection and the lock share one deadline, like any operation. After that each batch
      // gets a deadline of its own: cleaning a big table may rightly take longer than one.
      const [[locked]] = await lease.run(lockDeadline, (c) => execute<[[number | null]]>(c, 'SELECT GET_LOCK(?, 0)', [this.#lockName], true));
      if (locked !== 1) return 0; // another node is cleaning this table
      let removed = 0;
      try {
        while (!this.#closed) {
          const result = await lease.run(this.#timeout, (c) => execute<ResultSetHeader>(c, this.#sql.deleteExpired, [now]));
          removed += result.affectedRows;
          if (result.affectedRows < this.#cleanupBatch) break;
          await sleep(this.#cleanupPauseMs);
        }
      } finally {
        // A dropped connection has released the lock with it; otherwise release it before the connection goes back.
        await lease.run(this.#timeout, (c) => execute(c, 'SELECT RELEASE_LOCK(?)', [this.#lockName])).catch(() => {});
      }
      return removed;
    });
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    const tag = tagBytes(userTag);
    const rows = Number.isSafeInteger(limit) && limit > 0 ? limit : 0;
    if (rows === 0) return [];
    return this.#withConnection('listByUser', async (connection) => {
      // Text protocol: a prepared statement per distinct limit would pile up on every pooled connection.
      const sql = `SELECT id, version, user_id, tenant_id, expires_at, data FROM \`${this.table}\` WHERE user_id = ? LIMIT ${rows}`;
      const found = await query<KeyedRow[]>(connection, sql, [tag], true);
      return found.map(([id, ...row]) => ({ key: id.toString('hex'), record: recordFrom(row) }));
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await new Promise<void>((resolve) => {
      // A frozen server never answers COM_QUIT: stop waiting after one deadline and drop the sockets.
      const timer = setTimeout(resolve, this.#timeout);
      this.#pool.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const connection of this.#connections) connection.destroy();
    this.#connections.clear();
  }
}
