/**
 * RecordStore: what the manager reads and writes, in open records. Two
 * implementations: MemoryRecordStore (the `cache` backend: the tier is the
 * store, no crypto at all) and SealedRecordStore (the tier in front of a
 * persistent SessionStore of sealed bytes: filesystem or MySQL).
 *
 * The contract of stores/store.ts carries over (missing is null, versions,
 * insert-only, CAS, destroy final), plus:
 * - `peek` answers synchronously from process memory when it can: the
 *   record, null (known missing), or undefined (ask `find`). It is how a
 *   cache hit costs no promise and no crypto.
 * - `minVersion`: the version the client's cookie says it has seen. A
 *   cached copy older than that is never served: the store reads through.
 * - Keys are store keys as 32 bytes in a latin1 string (tier/tier-key.ts).
 * - Records handed out are shared and immutable; a record handed in
 *   (RecordDraft) belongs to the store from then on.
 */
import type { TierKey as StoreKey } from './tier-key.ts';
import type { KeyedOpenRecord, OpenRecord, RecordDraft } from './open-record.ts';
import type { TierStats } from './record-tier.ts';

export interface RecordStore {
  readonly name: string;
  open(): Promise<void>;
  peek(key: StoreKey, minVersion: number): OpenRecord | null | undefined;
  find(key: StoreKey, minVersion: number): Promise<OpenRecord | null>;
  /** Stores the draft at version 1 if `key` holds nothing: the record stored, or null (never an upsert). */
  insert(key: StoreKey, draft: RecordDraft): Promise<OpenRecord | null>;
  /** Compare-and-swap on the version: the record stored (expectedVersion + 1), or null when the version moved or the record is gone. */
  update(key: StoreKey, expectedVersion: number, draft: RecordDraft): Promise<OpenRecord | null>;
  touch(key: StoreKey, expiresAt: number): Promise<boolean>;
  delete(key: StoreKey): Promise<void>;
  deleteExpired(now: number): Promise<number>;
  listByUser(userTag: string, limit: number): Promise<KeyedOpenRecord[]>;
  readonly stats: TierStats;
  close(): Promise<void>;
}
