/**
 * The SessionStore contract: the persistent stores (filesystem, database)
 * implement it, and test/stores/contract.ts runs one shared suite against
 * each. The manager does not talk to them directly: the in-process tier in
 * front of them (tier/sealed-store.ts, a RecordStore of open records) does,
 * sealing records at this boundary; the `cache` backend is a RecordStore of
 * its own (tier/memory-store.ts) with nothing behind it.
 *
 * Stores move opaque bytes under an opaque key. They never see session ids,
 * plaintext or keys: `key` is a keyed hash of the id, `sealed` is AEAD
 * output, and user/tenant tags are keyed hashes of those ids.
 *
 * Rules every implementation keeps:
 * - Missing is `null` / `false`, not an error. Errors are for system failures
 *   only, and reach the manager as SessionStoreError (code ERR_SESSION_STORE)
 *   with the system error as `cause`.
 * - `find` returns a record even when it is past `expiresAt` (until cleanup
 *   removes it): the manager tells "expired" from "not found".
 * - Every record has a version, 1 at insert, +1 on each update. `touch` does
 *   not change it.
 * - After `delete`, nothing brings the record back: update and touch of a
 *   deleted key answer false, whichever process or node asks.
 * - A write either happens whole or not at all; a failed write leaves the
 *   previous record readable.
 */

/** 64 lowercase hex characters: BLAKE2b-256 of the session id under a subkey. */
export type StoreKey = string;

export interface RecordWrite {
  /** ms since the epoch; the record is dead from this instant. */
  readonly expiresAt: number;
  /** 32 hex characters (keyed hash of the user id), or null for anonymous sessions. */
  readonly userTag: string | null;
  /** 32 hex characters (keyed hash of the tenant id), or null. */
  readonly tenantTag: string | null;
  /** The sealed record (AEAD output bound to this key). */
  readonly sealed: Uint8Array;
}

export interface StoredRecord extends RecordWrite {
  readonly version: number;
}

export interface KeyedRecord {
  readonly key: StoreKey;
  readonly record: StoredRecord;
}

export interface SessionStore {
  /** Short name for messages and benchmarks: 'filesystem', 'database'. */
  readonly name: string;

  /** Called once before use: creates what is missing and proves the store is reachable (ERR_SESSION_STORE otherwise). */
  open(): Promise<void>;

  /**
   * The record under `key` (possibly expired), or null.
   *
   * `minVersion`: the version the client's cookie says it has already seen
   * (read-your-writes). A store that can serve a stale copy (a cache, a
   * replica or a multi-primary cluster node behind on applying) makes the
   * effort to return at least that version when one was acknowledged, e.g.
   * by reading through or causally; a store that is always current ignores it.
   */
  find(key: StoreKey, minVersion?: number): Promise<StoredRecord | null>;

  /** Stores a record at version 1 if `key` holds none. False if it does (never an upsert). */
  insert(key: StoreKey, write: RecordWrite): Promise<boolean>;

  /** Compare-and-swap: replaces the record only if its version is `expectedVersion`; the new version is expectedVersion + 1. False otherwise (including when missing). */
  update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean>;

  /** Sets expiresAt only (no version change, no re-encryption). False if the record is missing. */
  touch(key: StoreKey, expiresAt: number): Promise<boolean>;

  /** Removes the record. Idempotent: deleting a missing key resolves. */
  delete(key: StoreKey): Promise<void>;

  /**
   * Removes every record whose expiresAt <= now, in bounded batches that
   * never hold the event loop (or database locks) for long. Resolves to the
   * number removed.
   */
  deleteExpired(now: number): Promise<number>;

  /** Up to `limit` records tagged with this user tag, expired ones included. */
  listByUser(userTag: string, limit: number): Promise<KeyedRecord[]>;

  /** Releases files, connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** Checks a store key before it reaches a path or a query: stores call this on every key they are given. */
export function isStoreKey(key: unknown): key is StoreKey {
  return typeof key === 'string' && key.length === 64 && /^[0-9a-f]{64}$/.test(key);
}
