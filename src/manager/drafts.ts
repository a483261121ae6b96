/**
 * Building what a write stores: the data checked and copied (data/storable.ts),
 * the record's fields, its index tags, and the size limit.
 */
import { tagHex } from '../crypto/aead.ts';
import type { RecordFields } from '../codec.ts';
import { metaSizes, prepareData, TAG_HEAP_BYTES, type MetaForSize, type PreparedValue } from '../data/storable.ts';
import { SessionDataError } from '../errors.ts';
import type { DataRecord } from '../session-data.ts';
import type { MetaFields } from '../session.ts';
import type { RecordDraft } from '../tier/open-record.ts';
import type { Engine } from './engine.ts';

export type RecordMeta = Omit<RecordFields, 'data'>;

/** Prepared data, and the heap bytes of the record fields it was measured with (a draft of those fields reuses them). */
export interface PreparedSessionData extends PreparedValue<DataRecord> {
  readonly metaHeapBytes: number;
}

/**
 * The session's data checked, copied and measured against maxDataBytes (the
 * record's other fields count too). A draft made of it must carry the same
 * ids, ip and user agent as `meta`.
 */
export function prepareSessionData(engine: Engine, data: unknown, meta: MetaForSize): PreparedSessionData {
  const sizes = metaSizes(meta);
  const limit = engine.config.maxDataBytes - sizes.encodedBytes;
  if (limit < 3) throw new SessionDataError(`the session's own fields (ids, ip, user agent) already take maxDataBytes (${engine.config.maxDataBytes} bytes)`);
  const prepared = prepareData(data, limit);
  return { value: prepared.value, hasProtoKeys: prepared.hasProtoKeys, encodedBytes: prepared.encodedBytes, heapBytes: prepared.heapBytes, metaHeapBytes: sizes.heapBytes };
}

/** Tags remembered per user or tenant id (a keyed BLAKE2b each, on every write otherwise), for the most recent ids under the current key. */
const TAGS = 4096;
const tags = new WeakMap<object, Map<string, string>>();

/** The index tag of a user or tenant id under the ring's current key (engine.ring.current), remembered for recent ids. */
function tagOf(engine: Engine, value: string): string {
  const entry = engine.ring.current;
  let known = tags.get(entry);
  if (!known) tags.set(entry, (known = new Map()));
  let tag = known.get(value);
  if (tag === undefined) {
    tag = tagHex(entry, value);
    if (known.size >= TAGS) known.delete(known.keys().next().value!);
    known.set(value, tag);
  }
  return tag;
}

/** A record draft of `meta` and data prepared with meta's fields, with its index tags (keyed hashes of the user and tenant ids). */
export function draftOf(engine: Engine, meta: RecordMeta, prepared: PreparedSessionData, expiresAt: number): RecordDraft {
  // Every field by name (no spread): one object shape for every draft, whatever shape meta was built with.
  return {
    id: meta.id,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
    absoluteExpiresAt: meta.absoluteExpiresAt,
    userId: meta.userId,
    tenantId: meta.tenantId,
    ipAddress: meta.ipAddress,
    userAgent: meta.userAgent,
    data: prepared.value,
    expiresAt,
    userTag: meta.userId === null ? null : tagOf(engine, meta.userId),
    tenantTag: meta.tenantId === null ? null : tagOf(engine, meta.tenantId),
    hasProtoKeys: prepared.hasProtoKeys,
    heapBytes: prepared.heapBytes + prepared.metaHeapBytes + (meta.userId === null ? 0 : TAG_HEAP_BYTES),
  };
}

/** What prepareSessionData sizes a save's data against: the id and the session's own fields, timestamps at their largest. */
export function sizingFieldsOf(id: string, meta: MetaFields): MetaForSize {
  return { id, userId: meta.userId, tenantId: meta.tenantId, ipAddress: meta.ipAddress, userAgent: meta.userAgent };
}

/** The meta fields of a record written at `updatedAt` with the session's own fields `meta` (built by name: no spread on the write path). */
export function recordMetaOf(id: string, createdAt: number, updatedAt: number, absoluteExpiresAt: number, meta: MetaFields): RecordMeta {
  return { id, createdAt, updatedAt, absoluteExpiresAt, userId: meta.userId, tenantId: meta.tenantId, ipAddress: meta.ipAddress, userAgent: meta.userAgent };
}

/** The meta fields of an existing record (everything but data), written anew at `updatedAt` when given. */
export function metaOfRecord(record: RecordFields, updatedAt = record.updatedAt): RecordMeta {
  return {
    id: record.id,
    createdAt: record.createdAt,
    updatedAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    userId: record.userId,
    tenantId: record.tenantId,
    ipAddress: record.ipAddress,
    userAgent: record.userAgent,
  };
}
