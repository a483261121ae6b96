/** Validation of the `database` option (the MySQL store's settings), once, at createSessionManager. */
import type { StorageType } from '../config.ts';
import { SessionConfigError } from '../errors.ts';
import { booleanOption, describeValue, isPlainObject, matching, oneOf, optionalObject, positiveInteger, reject } from '../validate.ts';

/** One database node: a mysql:// URI, or mysql2 connection options (host, port, socketPath, ssl, user, …). */
export type DatabaseNode = string | { readonly [mysql2Option: string]: unknown };

/** How an operation picks a node when there are several. */
export type NodeSelector = 'failover' | 'round-robin';

export interface DatabaseOptions {
  /** mysql://user:pass@host:port/db — or give mysql2 connection options below, or several `nodes`. */
  uri?: string;
  /**
   * Several database nodes (a multi-primary Galera cluster, or a primary and
   * its standby), instead of one uri/host. Each is a mysql:// URI or mysql2
   * connection options. The other mysql2 options given beside `nodes` (user,
   * password, database, ssl, …) apply to every node; what a node sets itself
   * (in its object, or in its URI) wins. 1 to 32 nodes. Built on mysql2's
   * PoolCluster: each node has a pool of `poolSize` connections.
   */
  nodes?: readonly DatabaseNode[];
  /**
   * With several nodes: 'failover' (default) sends every operation to the
   * first node in `nodes` that is up; 'round-robin' spreads them over all
   * that are up. A node that fails is left out for `restoreNodeTimeout` ms.
   */
  selector?: NodeSelector;
  /** With several nodes: ms a failed node is left out before it is tried again. Default 2000. */
  restoreNodeTimeout?: number;
  /** Table name (letters, digits, underscore). Default 'rockstar_sessions'. */
  table?: string;
  /** Connections in the mysql2 pool (per node). Default 10. */
  poolSize?: number;
  /** Deadline of one store operation in ms; a connection that misses it is destroyed. Default 5000. */
  operationTimeout?: number;
  /** Create the table on first use when it is missing. Default true. */
  createTable?: boolean;
  /** Rows per cleanup DELETE, 1 to 100000 (it is written into the SQL text). Default 1000. */
  cleanupBatch?: number;
  /** Pause between cleanup batches in ms, 0 to 60000, so other writers get the index between them. Default 10. */
  cleanupPauseMs?: number;
  /** Any other mysql2 connection option (host, port, user, password, database, socketPath, ssl, …). */
  [mysql2Option: string]: unknown;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_NODES = 32;
export const MAX_CLEANUP_BATCH = 100_000;
export const MAX_CLEANUP_PAUSE_MS = 60_000;
export const DEFAULT_RESTORE_NODE_TIMEOUT = 2000;
export const DEFAULT_CLEANUP_PAUSE_MS = 10;
export const DEFAULT_CLEANUP_BATCH = 1000;

/** The store's own options: never handed to mysql2, never allowed inside one node's options. */
export const STORE_OPTION_NAMES: ReadonlySet<string> = new Set([
  'uri',
  'nodes',
  'selector',
  'restoreNodeTimeout',
  'table',
  'poolSize',
  'operationTimeout',
  'createTable',
  'cleanupBatch',
  'cleanupPauseMs',
  'maxDataBytes',
]);

/** A URI or password is described by its type and length only: both may hold a secret. */
function describeSecret(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (value === undefined || value === null) return String(value);
  return Array.isArray(value) ? `an array of ${value.length}` : `a ${typeof value}`;
}

function rejectSecret(option: string, constraint: string, value: unknown): never {
  throw new SessionConfigError(`${option} must be ${constraint}; received ${describeSecret(value)}`);
}

function isMysqlUri(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith('mysql://')) return false;
  try {
    return new URL(value).hostname.length > 0;
  } catch {
    return false;
  }
}

function checkUri(option: string, value: unknown): void {
  if (value !== undefined && !isMysqlUri(value)) rejectSecret(option, "a URL starting with 'mysql://' and naming a host", value);
}

function checkPassword(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') rejectSecret(option, 'a string', value);
}

function checkPort(option: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) reject(option, 'an integer from 1 to 65535', value);
}

function integerInRange(option: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    reject(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** cleanupBatch goes into the SQL text (LIMIT n) and 0 would never finish: both checked here, for the manager and for a store built directly. */
export function cleanupBatchOption(value: unknown): number {
  return integerInRange('database.cleanupBatch', value, 1, MAX_CLEANUP_BATCH, DEFAULT_CLEANUP_BATCH);
}

export function cleanupPauseOption(value: unknown): number {
  return integerInRange('database.cleanupPauseMs', value, 0, MAX_CLEANUP_PAUSE_MS, DEFAULT_CLEANUP_PAUSE_MS);
}

function checkNode(option: string, node: unknown): void {
  if (typeof node === 'string') {
    checkUri(option, node);
    return;
  }
  if (!isPlainObject(node)) reject(option, "a 'mysql://' URI or an object of mysql2 connection options", node);
  for (const name of Object.keys(node)) {
    if (STORE_OPTION_NAMES.has(name) && name !== 'uri') reject(`${option}.${name}`, 'given once, beside nodes (it is not a per-node option)', node[name]);
  }
  checkUri(`${option}.uri`, node.uri);
  checkPassword(`${option}.password`, node.password);
  checkPort(`${option}.port`, node.port);
  if (node.uri === undefined && node.host === undefined && node.socketPath === undefined) {
    reject(option, 'an object with uri, host or socketPath', node);
  }
}

function checkNodes(db: Record<string, unknown>): void {
  const nodes = db.nodes;
  // Described by type and length only: a string given here is most likely a URI with its password.
  if (!Array.isArray(nodes) || nodes.length < 1 || nodes.length > MAX_NODES) rejectSecret('database.nodes', `an array of 1 to ${MAX_NODES} nodes`, nodes);
  for (const name of ['uri', 'host', 'socketPath']) {
    if (db[name] !== undefined) {
      throw new SessionConfigError(`database.${name} cannot be given with database.nodes: name every node in nodes; received ${name === 'uri' ? describeSecret(db[name]) : describeValue(db[name])}`);
    }
  }
  nodes.forEach((node, i) => checkNode(`database.nodes[${i}]`, node));
}

/** The resolved `database` option, or undefined when the store is not 'database' and none was given. */
export function validateDatabaseOptions(value: unknown, storageType: StorageType): Readonly<DatabaseOptions> | undefined {
  if (value === undefined) {
    if (storageType === 'database') {
      throw new SessionConfigError(
        "database must be an object with a uri or mysql2 connection options when storageType is 'database' " +
          "(the seed's default storage); received undefined. Set storageType to 'cache' or 'filesystem' for an embedded store",
      );
    }
    return undefined;
  }
  const db = optionalObject('database', value);
  checkUri('database.uri', db.uri);
  checkPassword('database.password', db.password);
  checkPort('database.port', db.port);
  if (db.nodes !== undefined) checkNodes(db);
  else if (db.uri === undefined && db.host === undefined && db.socketPath === undefined) {
    reject('database', 'an object with uri, host, socketPath or nodes', value);
  }
  if (db.maxDataBytes !== undefined) {
    reject('database.maxDataBytes', 'left out (the store takes maxDataBytes from the top-level option)', db.maxDataBytes);
  }
  const resolved: DatabaseOptions = {
    ...db,
    table: matching('database.table', db.table, TABLE_NAME, 'a table name of letters, digits and underscores (at most 64)', 'rockstar_sessions'),
    poolSize: positiveInteger('database.poolSize', db.poolSize, 10),
    operationTimeout: positiveInteger('database.operationTimeout', db.operationTimeout, 5000),
    createTable: booleanOption('database.createTable', db.createTable, true),
    cleanupBatch: cleanupBatchOption(db.cleanupBatch),
    cleanupPauseMs: cleanupPauseOption(db.cleanupPauseMs),
  };
  if (db.nodes !== undefined) {
    resolved.selector = oneOf<NodeSelector>('database.selector', db.selector, ['failover', 'round-robin'], 'failover');
    resolved.restoreNodeTimeout = positiveInteger('database.restoreNodeTimeout', db.restoreNodeTimeout, DEFAULT_RESTORE_NODE_TIMEOUT);
    resolved.nodes = Object.freeze([...(db.nodes as DatabaseNode[])]);
  } else {
    for (const name of ['selector', 'restoreNodeTimeout']) {
      if (db[name] !== undefined) reject(`database.${name}`, 'given only with database.nodes', db[name]);
    }
  }
  return Object.freeze(resolved);
}
