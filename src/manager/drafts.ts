/**
 * Building what a write stores: the data checked and copied (data/storable.ts),
 * the record's fields, its index tags, and the size limit.
 */
import { tagHex } from '../crypto/aead.ts';
import type { RecordFields } from '../codec.ts';
import { metaSizes, prepareData, TAG_HEAP_BYTES, type MetaForSize, type PreparedValue } from '../data/storable.ts';
import { SessionDataError } from '../errors.ts';
import type { DataRecord } from '../session-data.ts';
import type { RecordDraft } from '../tier/open-record.ts';
import type { Engine } from './engine.ts';

export type RecordMeta = Omit<RecordFields, 'data'>;

/** The session's data checked, copied and measured against maxDataBytes (the record's other fields count too). */
export function prepareSessionData(engine: Engine, data: unknown, meta: MetaForSize): PreparedValue<DataRecord> {
  const limit = engine.config.maxDataBytes - metaSizes(meta).encodedBytes;
  if (limit < 3) throw new SessionDataError(`the session's own fields (ids, ip, user agent) already take maxDataBytes (${engine.config.maxDataBytes} bytes)`);
  return prepareData(data, limit);
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

/** A record draft of `meta` and prepared data, with its index tags (keyed hashes of the user and tenant ids). */
export function draftOf(engine: Engine, meta: RecordMeta, prepared: PreparedValue<DataRecord>, expiresAt: number): RecordDraft {
  return {
    ...meta,
    data: prepared.value,
    expiresAt,
    userTag: meta.userId === null ? null : tagOf(engine, meta.userId),
    tenantTag: meta.tenantId === null ? null : tagOf(engine, meta.tenantId),
    hasProtoKeys: prepared.hasProtoKeys,
    heapBytes: prepared.heapBytes + metaSizes(meta).heapBytes + (meta.userId === null ? 0 : TAG_HEAP_BYTES),
  };
}

/** The meta fields of an existing record (everything but data). */
export function metaOfRecord(record: RecordFields): RecordMeta {
  return {
    id: record.id,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    userId: record.userId,
    tenantId: record.tenantId,
    ipAddress: record.ipAddress,
    userAgent: record.userAgent,
  };
}
