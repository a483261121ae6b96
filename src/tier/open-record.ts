/**
 * An open record: what the in-process tier holds for one session. Decoded
 * fields and data, never sealed bytes (process memory is not "at rest": the
 * process holds the key anyway). Immutable once made, and shared by every
 * reader: each Session copies `data` (data/copy.ts), and every change makes
 * a new record, so a snapshot some request is reading is never mutated.
 */
import type { RecordFields } from '../codec.ts';
import type { StoreKey } from '../stores/store.ts';

/** A write as the manager hands it to a record store: fields, metadata, and what data/storable.ts measured. */
export interface RecordDraft extends RecordFields {
  /** ms since the epoch; the record is dead from this instant (idle expiry; never past absoluteExpiresAt). */
  readonly expiresAt: number;
  /** Keyed hashes of userId / tenantId (the stores' indexes), or null. */
  readonly userTag: string | null;
  readonly tenantTag: string | null;
  /** Some object in data has an own `__proto__` key (the codec's flag). */
  readonly hasProtoKeys: boolean;
  /** Estimated heap bytes of the fields (strings and data). */
  readonly heapBytes: number;
}

export interface OpenRecord extends RecordDraft {
  /** Compare-and-swap version: 1 at insert, +1 per update. */
  readonly version: number;
  /** When this process last read or wrote it through to a shared store (clock ms); 0 for the cache backend. */
  readonly cachedAt: number;
}

export interface KeyedOpenRecord {
  readonly key: StoreKey;
  readonly record: OpenRecord;
}

export function openRecord(draft: RecordDraft, version: number, cachedAt: number): OpenRecord {
  return {
    id: draft.id,
    createdAt: draft.createdAt,
    updatedAt: draft.updatedAt,
    absoluteExpiresAt: draft.absoluteExpiresAt,
    userId: draft.userId,
    tenantId: draft.tenantId,
    ipAddress: draft.ipAddress,
    userAgent: draft.userAgent,
    data: draft.data,
    expiresAt: draft.expiresAt,
    userTag: draft.userTag,
    tenantTag: draft.tenantTag,
    hasProtoKeys: draft.hasProtoKeys,
    heapBytes: draft.heapBytes,
    version,
    cachedAt,
  };
}

/** The same record with another idle expiry (a touch: no version change). */
export function withExpiry(record: OpenRecord, expiresAt: number): OpenRecord {
  return { ...record, expiresAt };
}

/**
 * Live at `now`: before its idle expiry and before the absolute lifetime
 * sealed inside it. The idle expiry is store metadata (a file header, a
 * column) that someone with write access to the store could stretch; the
 * absolute lifetime travels inside the sealed record, so it caps that.
 */
export function isLive(record: OpenRecord, now: number): boolean {
  return record.expiresAt > now && record.absoluteExpiresAt > now;
}
