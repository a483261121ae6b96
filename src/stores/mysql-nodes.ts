/**
 * Where the MySQL store's connections come from: one mysql2 Pool for one
 * server (uri/host/socketPath, as before), or a mysql2 PoolCluster for
 * `database.nodes`, one pool per node.
 *
 * PoolCluster itself skips a node whose connection attempt failed (with
 * removeNodeErrorCount 1 it is offline for restoreNodeTimeout, then tried
 * again; canRetry moves the same request to the next node). It does not see
 * failures after a connection was handed out: a node that died under an open
 * connection, froze (SIGSTOP, a partition), or that Galera has not readied
 * (1047). The store reports those here (markDown), and until
 * restoreNodeTimeout has passed, connections are taken only from the other
 * nodes, through a PoolCluster pattern that names them. Connections to the
 * node that were opened before its failure are not trusted again: each is
 * destroyed when it next comes out of the pool, so a frozen node costs the
 * operations that were on it, not one more per idle connection.
 */
import mysql, { type PoolCluster, type PoolConnection, type PoolOptions } from 'mysql2';
import { acquire, DeadlineError, type ConnectionPool } from './mysql-deadline.ts';
import type { DatabaseNode, NodeSelector } from './mysql-options.ts';

export interface ConnectionSourceOptions {
  /** mysql2 options shared by every node (pool settings included). */
  readonly shared: PoolOptions;
  /** Several nodes, or undefined for the single server named in `shared`. */
  readonly nodes?: readonly DatabaseNode[];
  readonly selector?: NodeSelector;
  readonly restoreNodeTimeout: number;
  /** Called once for each new connection, before its first statement. */
  readonly onConnection: (connection: PoolConnection) => void;
  /** Monotonic clock in ms (performance.now): injectable for tests. */
  readonly now?: () => number;
}

/** What a node's URI sets itself, so that the shared options do not override it (mysql2 lets explicit options win over a uri). */
function keysSetBy(uri: string): Set<string> {
  const url = new URL(uri);
  const keys = new Set(url.searchParams.keys());
  if (url.hostname) keys.add('host');
  if (url.port) keys.add('port');
  if (url.pathname.length > 1) keys.add('database');
  if (url.username) keys.add('user');
  if (url.password) keys.add('password');
  return keys;
}

/** One node's mysql2 options: the shared ones, then what the node sets (its object, or its URI). */
export function nodeOptions(shared: PoolOptions, node: DatabaseNode): PoolOptions {
  if (typeof node === 'string') {
    const own = keysSetBy(node);
    const rest = Object.fromEntries(Object.entries(shared).filter(([name]) => !own.has(name)));
    return { ...rest, uri: node } as PoolOptions;
  }
  if (typeof node.uri === 'string') {
    const own = keysSetBy(node.uri);
    const rest = Object.fromEntries(Object.entries(shared).filter(([name]) => !own.has(name)));
    return { ...rest, ...node } as PoolOptions;
  }
  return { ...shared, ...node } as PoolOptions;
}

interface Tracked {
  readonly node: string | undefined;
  /** The node's failure count when this connection was first seen. */
  readonly epoch: number;
}

export class ConnectionSource {
  readonly nodeCount: number;
  readonly #pool: mysql.Pool | undefined;
  readonly #cluster: PoolCluster | undefined;
  readonly #selector: 'ORDER' | 'RR';
  readonly #restoreMs: number;
  readonly #now: () => number;
  readonly #onConnection: (connection: PoolConnection) => void;
  readonly #nodeIds: readonly string[];
  /** Per node: ms (on #now) until which the store keeps it out, and how often it failed. */
  readonly #downUntil = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #seen = new WeakMap<PoolConnection, Tracked>();
  /**
   * PoolCluster caches a namespace per pattern: one RegExp per set of healthy nodes, made once. Each
   * set arises from a failure, so there are as many as distinct sets of nodes that were down at once.
   */
  readonly #patterns = new Map<string, RegExp>();

  constructor(options: ConnectionSourceOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#onConnection = options.onConnection;
    this.#restoreMs = options.restoreNodeTimeout;
    this.#selector = options.selector === 'round-robin' ? 'RR' : 'ORDER';
    if (options.nodes === undefined) {
      this.nodeCount = 1;
      this.#nodeIds = [];
      this.#pool = mysql.createPool(options.shared);
      return;
    }
    this.nodeCount = options.nodes.length;
    this.#nodeIds = options.nodes.map((_, i) => `node${i}`);
    this.#cluster = mysql.createPoolCluster({
      canRetry: true,
      // One failed connection attempt takes the node out for restoreNodeTimeout (mysql2's default, 0, would remove it for good).
      removeNodeErrorCount: 1,
      restoreNodeTimeout: this.#restoreMs,
      defaultSelector: this.#selector,
    });
    options.nodes.forEach((node, i) => this.#cluster!.add(this.#nodeIds[i]!, nodeOptions(options.shared, node)));
  }

  /** A connection within `timeoutMs`, from a node that is not marked down (from any node when all are). */
  async acquire(timeoutMs: number): Promise<{ connection: PoolConnection; node: string | undefined }> {
    const deadline = this.#now() + timeoutMs;
    for (;;) {
      const remaining = deadline - this.#now();
      if (remaining <= 0) throw new DeadlineError(`no database connection within ${timeoutMs} ms`);
      const connection = await acquire(this.#namespace(), remaining);
      let tracked = this.#seen.get(connection);
      if (tracked === undefined) {
        // PoolCluster tags each connection with its node id (mysql2 3.x, PoolCluster#_getConnection). Were it
        // missing, connections would count as a single server's: never marked, never distrusted, still correct.
        const node = (connection as unknown as { _clusterId?: string })._clusterId;
        tracked = { node, epoch: node === undefined ? 0 : (this.#failures.get(node) ?? 0) };
        this.#seen.set(connection, tracked);
        this.#onConnection(connection);
      } else if (tracked.node !== undefined && tracked.epoch < (this.#failures.get(tracked.node) ?? 0)) {
        // Opened before its node failed: it may be one more socket into a frozen server. Never trust it again.
        connection.destroy();
        continue;
      }
      return { connection, node: tracked.node };
    }
  }

  /** The store saw `node` fail under an open connection: keep it out for restoreNodeTimeout. No-op for a single server. */
  markDown(node: string | undefined): void {
    if (node === undefined || this.#cluster === undefined) return;
    this.#downUntil.set(node, this.#now() + this.#restoreMs);
    this.#failures.set(node, (this.#failures.get(node) ?? 0) + 1);
  }

  /** True when an operation that failed on `node` has another node to go to now. */
  hasOtherNode(node: string | undefined): boolean {
    if (this.#cluster === undefined) return false;
    return this.#nodeIds.some((id) => id !== node && !this.#isDown(id));
  }

  #isDown(node: string): boolean {
    const until = this.#downUntil.get(node);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#downUntil.delete(node);
    return false;
  }

  #namespace(): ConnectionPool {
    if (this.#pool) return this.#pool;
    const cluster = this.#cluster!;
    const up = this.#nodeIds.filter((id) => !this.#isDown(id));
    // All marked down: better to try them than to refuse (PoolCluster still skips those it cannot connect to).
    if (up.length === 0 || up.length === this.#nodeIds.length) return cluster.of('*', this.#selector);
    const name = up.join('|');
    let pattern = this.#patterns.get(name);
    if (pattern === undefined) {
      pattern = new RegExp(`^(?:${name})$`);
      this.#patterns.set(name, pattern);
    }
    // mysql2 matches a RegExp pattern as it is (its typings say string only).
    return cluster.of(pattern as unknown as string, this.#selector);
  }

  /** Ends every pool; `callback` once they have said goodbye. */
  end(callback: () => void): void {
    if (this.#pool) this.#pool.end(() => callback());
    else this.#cluster!.end(() => callback());
  }
}
