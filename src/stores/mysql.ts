/**
 * The `database` backend: one InnoDB table on any MySQL-protocol server, or
 * on several nodes (a Galera cluster, a primary and its standby), reached
 * through mysql2 pools with server-side prepared statements. The DDL and
 * what is guaranteed across nodes are in README-mysql.md.
 *
 * - insert is a plain INSERT (a duplicate key answers false: never an upsert);
 *   update is `UPDATE … WHERE id = ? AND version = ?`; touch sets expires_at only.
 *   Every write is one autocommitted statement, so it is whole or absent,
 *   and once acknowledged it survives a server crash (InnoDB with its
 *   default innodb_flush_log_at_trx_commit=1; on Galera, once certified).
 * - Every operation has its own deadline (database.operationTimeout) covering
 *   the wait for a connection, every retry below and every statement; see
 *   mysql-operation.ts and mysql-deadline.ts. An outage fails calls with
 *   ERR_SESSION_STORE; the pools reconnect when the server is back. Several
 *   nodes: mysql-nodes.ts.
 * - Conflicts (an InnoDB deadlock, a lock wait timeout, a Galera
 *   certification failure: mysql-errors.ts) are lost races, never
 *   ERR_SESSION_STORE. The server rolled the statement back whole, so:
 *   - update answers false, a refused compare-and-swap: the manager re-reads
 *     and retries with its backoff and its ERR_SESSION_CONFLICT budget. The
 *     re-read decides afresh, so nothing is applied twice or resurrected
 *     (an UPDATE of a deleted row matches nothing).
 *   - insert, touch, delete, find and listByUser are retried here, with a
 *     short random backoff, until they are done or the deadline has passed
 *     (then ERR_SESSION_CONFLICT). A retried insert may still answer false
 *     for a key another writer took; a retried touch or delete of a deleted
 *     row changes nothing; a delete resolves only once the DELETE committed.
 * - A connection that breaks mid-statement leaves the statement's outcome
 *   unknown. find, touch and delete are then run again (on another node when
 *   there is one): their repetition changes nothing. insert is too, and a
 *   duplicate key on the repeat is checked against the sealed bytes (a fresh
 *   random nonce each time), so an insert that did land answers true.
 *   update is not repeated (it could apply a change twice): ERR_SESSION_STORE,
 *   and the row's version tells the next reader what happened.
 * - deleteExpired deletes in LIMITed batches with a pause between them, on
 *   one app node at a time per database node (GET_LOCK with no wait: an app
 *   node that finds the lock taken answers 0). GET_LOCK is local to a Galera
 *   node; cleanups on different nodes may overlap, which is harmless: each
 *   batch deletes only rows already expired, a batch that loses a
 *   certification race to another cleanup removed nothing and is not counted,
 *   and a cleanup that keeps losing leaves the rest to the one winning.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolConnection, PoolOptions, ResultSetHeader } from 'mysql2';
import { asStoreError, SessionClosedError, SessionStoreError } from '../errors.ts';
import { COLUMNS_SQL, createTableSql, schemaProblems, type ColumnRow } from './mysql-ddl.ts';
import { execute, query, type Lease } from './mysql-deadline.ts';
import { ER_DUP_ENTRY, isConflict } from './mysql-errors.ts';
import { ConnectionSource } from './mysql-nodes.ts';
import { MAX_CONFLICT_BACKOFF_MS, ONCE_ONLY_WRITE, OperationRunner, READ, REPEATABLE_WRITE } from './mysql-operation.ts';
import { cleanupBatchOption, cleanupPauseOption, DEFAULT_RESTORE_NODE_TIMEOUT, STORE_OPTION_NAMES, type DatabaseOptions } from './mysql-options.ts';
import { checkRecordFits, serverFacts, type ServerFacts } from './mysql-server.ts';
import { isStoreKey, type KeyedRecord, type RecordWrite, type SessionStore, type StoredRecord, type StoreKey } from './store.ts';

const TAG = /^[0-9a-f]{32}$/;
/** A cleanup that loses this many batches in a row to another node's cleanup leaves the rest to it. */
const CLEANUP_CONFLICTS_IN_A_ROW = 3;

export interface MysqlStoreOptions extends DatabaseOptions {
  /**
   * The manager's maxDataBytes (the largest encoded record). Given, open()
   * refuses it with ERR_SESSION_CONFIG when its sealed record (+45 bytes)
   * would not fit the server's max_allowed_packet or the data column.
   */
  readonly maxDataBytes?: number;
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

/** mysql2's options, shared by every node: ours are not mysql2's (it complains about options it does not know). */
function driverOptions(options: MysqlStoreOptions, operationTimeout: number, poolSize: number): PoolOptions {
  const driver = Object.fromEntries(Object.entries(options).filter(([name]) => !STORE_OPTION_NAMES.has(name))) as PoolOptions;
  // With several nodes a node that accepts TCP but never greets (frozen) may cost only half the deadline,
  // so that PoolCluster can still take the same operation to the next node.
  const connectBudget = options.nodes === undefined ? operationTimeout : Math.max(1, Math.floor(operationTimeout / 2));
  const connectTimeout = typeof driver.connectTimeout === 'number' ? Math.min(driver.connectTimeout, connectBudget) : connectBudget;
  return {
    ...driver,
    ...(options.uri === undefined ? {} : { uri: options.uri }),
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
  readonly #maxDataBytes: number | undefined;
  readonly #source: ConnectionSource;
  readonly #runner: OperationRunner;
  /** Every connection the pools made, so close() can drop the ones a frozen server never lets end. */
  readonly #connections = new Set<PoolConnection>();
  readonly #sql: Readonly<Record<'find' | 'causalFind' | 'insert' | 'sealedOf' | 'update' | 'touch' | 'delete' | 'deleteExpired', string>>;
  #facts: ServerFacts | undefined;
  #lockName = '';
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: MysqlStoreOptions) {
    this.table = options.table ?? 'rockstar_sessions';
    this.#timeout = options.operationTimeout ?? 5000;
    this.#lockWaitSeconds = Math.max(1, Math.ceil(this.#timeout / 1000));
    this.#createTable = options.createTable ?? true;
    // Checked here too: a store built directly (tests, scripts) must not put text into its SQL either.
    this.#cleanupBatch = cleanupBatchOption(options.cleanupBatch);
    this.#cleanupPauseMs = cleanupPauseOption(options.cleanupPauseMs);
    this.#maxDataBytes = options.maxDataBytes;
    const t = `\`${this.table}\``;
    const find = `SELECT version, user_id, tenant_id, expires_at, data FROM ${t} WHERE id = ?`;
    this.#sql = {
      find,
      // MariaDB scopes the causal wait to this one statement; see #causalFind for other servers.
      causalFind: `SET STATEMENT wsrep_sync_wait = 1 FOR ${find}`,
      insert: `INSERT INTO ${t} (id, version, user_id, tenant_id, expires_at, data) VALUES (?, 1, ?, ?, ?, ?)`,
      sealedOf: `SELECT data FROM ${t} WHERE id = ?`,
      update: `UPDATE ${t} SET version = version + 1, user_id = ?, tenant_id = ?, expires_at = ?, data = ? WHERE id = ? AND version = ?`,
      touch: `UPDATE ${t} SET expires_at = ? WHERE id = ?`,
      delete: `DELETE FROM ${t} WHERE id = ?`,
      // The batch size is part of the text (an integer checked above), not a parameter: MySQL 8 refuses some LIMIT ? bindings.
      deleteExpired: `DELETE FROM ${t} WHERE expires_at <= ? LIMIT ${this.#cleanupBatch}`,
    };
    this.#source = new ConnectionSource({
      shared: driverOptions(options, this.#timeout, options.poolSize ?? 10),
      nodes: options.nodes,
      selector: options.selector,
      restoreNodeTimeout: options.restoreNodeTimeout ?? DEFAULT_RESTORE_NODE_TIMEOUT,
      onConnection: (connection) => this.#track(connection),
    });
    this.#runner = new OperationRunner(this.#source, this.#timeout, () => this.#closed);
  }

  /** Number of database nodes this store spreads over (1 for a single server). */
  get nodeCount(): number {
    return this.#source.nodeCount;
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

  open(): Promise<void> {
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw asStoreError('open', error);
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    await this.#runner.run('open', READ, async (connection) => {
      const facts = await serverFacts(connection);
      if (!facts.database) throw new SessionStoreError('no database selected: name one in database.uri (mysql://…/dbname) or database.database');
      if (this.#createTable) await query(connection, createTableSql(this.table));
      const columns = await execute<ColumnRow[]>(connection, COLUMNS_SQL, [this.table]);
      const problems = schemaProblems(columns);
      if (problems.length > 0) {
        const hint = this.#createTable ? '' : ' (database.createTable is false: create it with the DDL in src/stores/README-mysql.md)';
        throw new SessionStoreError(`table \`${facts.database}\`.\`${this.table}\` does not fit the session store: ${problems.join('; ')}${hint}`);
      }
      const dataType = columns.find((column) => column.COLUMN_NAME.toLowerCase() === 'data')?.DATA_TYPE;
      checkRecordFits(this.#maxDataBytes, facts, dataType);
      this.#facts = facts;
      this.#lockName = cleanupLockName(facts.database, this.table);
    });
  }

  // Keys and tags are checked before a connection is taken: a bad one is a caller's bug, not the connection's.

  /**
   * The record under `key`. Given `minVersion` (the version the client's
   * cookie says it has seen), a row that is missing or older is read once
   * more, causally: on Galera with wsrep_sync_wait for that one read, so the
   * node first applies every write the cluster committed before it (the
   * client's own included); elsewhere, simply once more. Whatever that read
   * finds is the answer.
   */
  async find(key: StoreKey, minVersion?: number): Promise<StoredRecord | null> {
    const id = keyBytes(key);
    return this.#runner.run('find', READ, async (connection) => {
      const rows = await execute<Row[]>(connection, this.#sql.find, [id], true);
      const record = rows[0] ? recordFrom(rows[0]) : null;
      // Versions start at 1: a minVersion below it claims nothing (the tier passes 0 when no cookie said a version).
      if (minVersion === undefined || minVersion < 1 || (record !== null && record.version >= minVersion)) return record;
      const again = await this.#causalFind(connection, id);
      return again[0] ? recordFrom(again[0]) : null;
    });
  }

  async #causalFind(connection: PoolConnection, id: Buffer): Promise<Row[]> {
    const facts = this.#facts;
    if (!facts?.galera) return execute<Row[]>(connection, this.#sql.find, [id], true);
    if (facts.setStatement) return execute<Row[]>(connection, this.#sql.causalFind, [id], true);
    // Percona XtraDB Cluster has no SET STATEMENT: set it on this session for this read, and put the global value back.
    // Any failure in between destroys the connection (a plain Error is not a server answer), so it never
    // goes back to the pool with the wait still on.
    try {
      await query(connection, 'SET SESSION wsrep_sync_wait = 1');
      const rows = await execute<Row[]>(connection, this.#sql.find, [id], true);
      await query(connection, 'SET SESSION wsrep_sync_wait = DEFAULT'); // the server's own setting, whatever the operator made it
      return rows;
    } catch (error) {
      throw new Error(`causal read failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    const id = keyBytes(key);
    const values = [id, tagBytes(write.userTag), tagBytes(write.tenantTag), write.expiresAt, write.sealed];
    return this.#runner.run('insert', REPEATABLE_WRITE, async (connection, attempts) => {
      try {
        await execute<ResultSetHeader>(connection, this.#sql.insert, values);
        return true;
      } catch (error) {
        if ((error as { errno?: number }).errno !== ER_DUP_ENTRY) throw error;
        if (!attempts.maybeApplied) return false;
        // An earlier attempt lost its connection: is the row in the way the one it wrote? The sealed bytes
        // hold a fresh random nonce, so only our own write can be equal to them.
        const rows = await execute<Array<[Buffer]>>(connection, this.#sql.sealedOf, [id], true);
        return rows[0] !== undefined && Buffer.compare(rows[0][0], write.sealed) === 0;
      }
    });
  }

  async update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    const values = [tagBytes(write.userTag), tagBytes(write.tenantTag), write.expiresAt, write.sealed, keyBytes(key), expectedVersion];
    return this.#runner.run('update', ONCE_ONLY_WRITE, async (connection) => {
      try {
        const result = await execute<ResultSetHeader>(connection, this.#sql.update, values);
        return result.affectedRows === 1;
      } catch (error) {
        // Lost a lock or certification race: rolled back whole, so a refused compare-and-swap.
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  async touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    const id = keyBytes(key);
    return this.#runner.run('touch', REPEATABLE_WRITE, async (connection) => {
      // mysql2 sets CLIENT_FOUND_ROWS: affectedRows counts the matched row even when expires_at was already this value.
      const result = await execute<ResultSetHeader>(connection, this.#sql.touch, [expiresAt, id]);
      return result.affectedRows === 1;
    });
  }

  async delete(key: StoreKey): Promise<void> {
    const id = keyBytes(key);
    await this.#runner.run('delete', REPEATABLE_WRITE, (connection) => execute<ResultSetHeader>(connection, this.#sql.delete, [id]));
  }

  async deleteExpired(now: number): Promise<number> {
    if (this.#closed) throw new SessionClosedError('session store is closed');
    const started = performance.now();
    let lease: Lease;
    try {
      lease = await this.#runner.lease(this.#timeout);
    } catch (error) {
      throw asStoreError('deleteExpired', error);
    }
    try {
      // Taking the connection and the lock share one deadline, like any operation. After that each batch
      // gets a deadline of its own: cleaning a big table may rightly take longer than one.
      const lockDeadline = Math.max(1, Math.ceil(this.#timeout - (performance.now() - started)));
      const [[locked]] = await lease.run(lockDeadline, (c) => execute<[[number | null]]>(c, 'SELECT GET_LOCK(?, 0)', [this.#lockName], true));
      if (locked !== 1) return 0; // another app node is cleaning this table on this database node
      let removed = 0;
      let conflictsInARow = 0;
      try {
        while (!this.#closed) {
          let affected: number;
          try {
            affected = (await lease.run(this.#timeout, (c) => execute<ResultSetHeader>(c, this.#sql.deleteExpired, [now]))).affectedRows;
          } catch (error) {
            // Lost to a writer, or (Galera) to another node's cleanup of the same rows: that batch removed nothing.
            if (!isConflict(error)) throw error;
            if (++conflictsInARow >= CLEANUP_CONFLICTS_IN_A_ROW) break;
            await sleep(this.#cleanupPauseMs + Math.random() * MAX_CONFLICT_BACKOFF_MS);
            continue;
          }
          conflictsInARow = 0;
          removed += affected;
          if (affected < this.#cleanupBatch) break;
          await sleep(this.#cleanupPauseMs);
        }
      } finally {
        // A dropped connection has released the lock with it; otherwise release it before the connection goes back.
        if (lease.held) await lease.run(this.#timeout, (c) => execute(c, 'SELECT RELEASE_LOCK(?)', [this.#lockName])).catch(() => {});
      }
      return removed;
    } catch (error) {
      throw asStoreError('deleteExpired', error);
    } finally {
      lease.release();
    }
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    const tag = tagBytes(userTag);
    const rows = Number.isSafeInteger(limit) && limit > 0 ? limit : 0;
    if (rows === 0) return [];
    return this.#runner.run('listByUser', READ, async (connection) => {
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
      this.#source.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const connection of this.#connections) connection.destroy();
    this.#connections.clear();
  }
}
