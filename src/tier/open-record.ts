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

/**
 * The fields a record is made of: a draft without what only a write needs
 * (records are re-encoded, and re-tagged, only from new drafts: the tenant
 * tag is indexed by the persistent stores, and nothing in process memory
 * reads it).
 */
export type RecordContent = Omit<RecordDraft, 'hasProtoKeys' | 'tenantTag'>;

/**
 * What the tier keeps for one session. A class rather than a plain object
 * for its memory: V8 keeps every number field that is not a small integer
 * in a 16-byte box of its own, and a record has five timestamps. Only
 * createdAt is kept whole; the others are kept as ms after it, small
 * integers (stored unboxed) for any session younger than about 24 days.
 */
export class OpenRecord implements RecordContent {
  /** The store key it lives under (the tier's own key string: the verified-token map shares it rather than holding a copy). */
  readonly key: StoreKey;
  readonly id: string;
  readonly userId: string | null;
  readonly tenantId: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly data: RecordContent['data'];
  readonly userTag: string | null;
  readonly heapBytes: number;
  /** Compare-and-swap version: 1 at insert, +1 per update. */
  readonly version: number;
  readonly #createdAt: number;
  readonly #updatedAfter: number;
  readonly #expiresAfter: number;
  readonly #absoluteAfter: number;
  /** cachedAt - createdAt + 1, or 0 for "never" (the cache backend). */
  readonly #cachedAfter: number;

  constructor(key: StoreKey, content: RecordContent, version: number, cachedAt: number) {
    this.key = key;
    this.id = content.id;
    this.userId = content.userId;
    this.tenantId = content.tenantId;
    this.ipAddress = content.ipAddress;
    this.userAgent = content.userAgent;
    this.data = content.data;
    this.userTag = content.userTag;
    this.heapBytes = content.heapBytes;
    this.version = version;
    const createdAt = content.createdAt;
    this.#createdAt = createdAt;
    this.#updatedAfter = content.updatedAt - createdAt;
    this.#expiresAfter = content.expiresAt - createdAt;
    this.#absoluteAfter = content.absoluteExpiresAt - createdAt;
    this.#cachedAfter = cachedAt === 0 ? 0 : cachedAt - createdAt + 1;
  }

  get createdAt(): number {
    return this.#createdAt;
  }

  get updatedAt(): number {
    return this.#createdAt + this.#updatedAfter;
  }

  /** ms since the epoch; the record is dead from this instant (idle expiry; never past absoluteExpiresAt). */
  get expiresAt(): number {
    return this.#createdAt + this.#expiresAfter;
  }

  get absoluteExpiresAt(): number {
    return this.#createdAt + this.#absoluteAfter;
  }

  /** When this process last read or wrote it through to a shared store (clock ms); 0 for the cache backend. */
  get cachedAt(): number {
    return this.#cachedAfter === 0 ? 0 : this.#createdAt + this.#cachedAfter - 1;
  }

  /** The same record with another idle expiry (a touch: no version change). */
  withExpiry(expiresAt: number): OpenRecord {
    return new OpenRecord(this.key, contentOf(this, expiresAt), this.version, this.cachedAt);
  }
}

/** A record's content as a plain object (its getters read out), with another idle expiry when given. */
export function contentOf(record: OpenRecord, expiresAt = record.expiresAt): RecordContent {
  return {
    id: record.id,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    userId: record.userId,
    tenantId: record.tenantId,
    ipAddress: record.ipAddress,
    userAgent: record.userAgent,
    data: record.data,
    expiresAt,
    userTag: record.userTag,
    heapBytes: record.heapBytes,
  };
}

export interface KeyedOpenRecord {
  readonly key: StoreKey;
  readonly record: OpenRecord;
}

export function openRecord(key: StoreKey, content: RecordContent, version: number, cachedAt: number): OpenRecord {
  return new OpenRecord(key, content, version, cachedAt);
}

/** The same record with another idle expiry (a touch: no version change). */
export function withExpiry(record: OpenRecord, expiresAt: number): OpenRecord {
  return record.withExpiry(expiresAt);
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
