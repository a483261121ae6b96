/**
 * One MySQL store operation from start to end: its one deadline
 * (database.operationTimeout) over the wait for a connection, every attempt
 * and every statement, and the attempts that are safe to make again (see
 * "Conflicts" and "Broken connections" in README-mysql.md):
 *
 * - after a conflict (deadlock, lock wait timeout, Galera certification
 *   failure): the server rolled the statement back whole, so running it
 *   again is always safe; a short random pause first;
 * - on a Galera node that refused to run it (1047): it did not run; on
 *   another node at once, or on the same one until the deadline (a node
 *   rejoining, or briefly cut off from the primary component, comes back);
 * - for repeatable operations, after the connection broke mid-statement
 *   (on another node when there is one): the repeat changes nothing, or
 *   (insert) checks what the first attempt did.
 *
 * Every other failure is ERR_SESSION_STORE; conflicts until the deadline are
 * ERR_SESSION_CONFLICT. A failure under an open connection is reported to the
 * connection source, which then leaves that node out for a while.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolConnection } from 'mysql2';
import { asStoreError, SessionClosedError, SessionConflictError, SessionError } from '../errors.ts';
import { DeadlineError, Lease } from './mysql-deadline.ts';
import { isConflict, isConnectionLost, isNodeNotReady } from './mysql-errors.ts';
import type { ConnectionSource } from './mysql-nodes.ts';

/** Longest random pause between retries of a conflicting statement. */
export const MAX_CONFLICT_BACKOFF_MS = 32;
/** Attempts after broken connections, whatever time is left (a node not ready is waited for until the deadline). */
const MAX_ATTEMPTS = 16;
/** Pause before asking a node that is not ready (and the only one) again. */
const NOT_READY_PAUSE_MS = 50;

/** What one attempt of an operation may learn from the ones before it. */
export interface Attempts {
  /** An earlier attempt lost its connection mid-statement: its statement may have run. */
  maybeApplied: boolean;
}

export interface Policy {
  /** Safe to run again after a connection broke mid-statement (its repetition changes nothing, or checks). */
  readonly repeatable: boolean;
}

export const READ: Policy = { repeatable: true };
export const REPEATABLE_WRITE: Policy = { repeatable: true };
/** update: a repeat could apply a change twice, so a broken connection ends it. */
export const ONCE_ONLY_WRITE: Policy = { repeatable: false };

export class OperationRunner {
  readonly #source: ConnectionSource;
  readonly #timeout: number;
  readonly #closed: () => boolean;

  constructor(source: ConnectionSource, timeoutMs: number, closed: () => boolean) {
    this.#source = source;
    this.#timeout = timeoutMs;
    this.#closed = closed;
  }

  /** One connection within `timeoutMs`, as a Lease (cleanup, which manages its own deadlines). */
  async lease(timeoutMs: number): Promise<Lease> {
    const { connection, node } = await this.#source.acquire(timeoutMs);
    return new Lease(connection, node);
  }

  /** Runs `step` under one operation deadline, again where that is safe (above). */
  async run<T>(operation: string, policy: Policy, step: (connection: PoolConnection, attempts: Attempts) => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.#timeout;
    const attempts: Attempts = { maybeApplied: false };
    // Whole milliseconds: they appear in messages ("no answer within N ms").
    const remaining = () => Math.max(1, Math.ceil(deadline - performance.now()));
    for (let attempt = 1; ; attempt++) {
      if (this.#closed()) throw new SessionClosedError('session store is closed');
      let lease: Lease;
      try {
        lease = await this.lease(remaining());
      } catch (error) {
        // A pool that cannot hand out a connection has already tried every node it has.
        throw asStoreError(operation, error);
      }
      let failure: unknown;
      try {
        return await lease.run(remaining(), (connection) => step(connection, attempts));
      } catch (error) {
        failure = error;
      } finally {
        lease.release();
      }
      if (failure instanceof SessionError) throw failure;
      if (isConflict(failure)) {
        const pause = Math.random() * Math.min(MAX_CONFLICT_BACKOFF_MS, 2 ** attempt);
        if (remaining() <= pause + 1) {
          throw new SessionConflictError(`session store ${operation} kept conflicting with concurrent writers until its ${this.#timeout} ms deadline`, { cause: failure });
        }
        await sleep(pause);
        continue;
      }
      const missed = failure instanceof DeadlineError;
      const notReady = isNodeNotReady(failure);
      const lost = !missed && isConnectionLost(failure);
      if (notReady || lost || missed) this.#source.markDown(lease.node);
      if (notReady && remaining() > 1) {
        // Not run: safe to try until the deadline. Another node at once when there is one; else give this one a moment.
        if (!this.#source.hasOtherNode(lease.node)) await sleep(Math.min(NOT_READY_PAUSE_MS, Math.max(0, remaining() - 1)));
        continue;
      }
      if (lost && policy.repeatable && remaining() > 1 && attempt < MAX_ATTEMPTS) {
        attempts.maybeApplied = true;
        continue;
      }
      throw asStoreError(operation, failure);
    }
  }
}
