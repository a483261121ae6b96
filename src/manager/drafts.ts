/**
 * Building what a write stores: the data checked and copied (data/storable.ts),
 * the record's fields, its index tags, and the size limit.
 */
import { tagHex } from '../crypto/aead.ts';
import type { RecordFields } from '../codec.ts';
import { metaSizes, prepareData, type PreparedValue } from '../data/storable.ts';
import { SessionDataError } from '../errors.ts';
import type { DataRecord } from '../session-data.ts';
import type { RecordDraft } from '../tier/open-record.ts';
import type { Engine } from './engine.ts';

export type RecordMeta = Omit<RecordFields, 'data'>;

/** The session's data checked, copied and measured against maxDataBytes (the record's other fields count too). */
export function prepareSessionData(engine: Engine, data: unknown, meta: Pick<RecordFields, 'id' | 'userId' | 'tenantId' | 'ipAddress' | 'userAgent'>): PreparedValue<DataRecord> {
  const limit = engine.config.maxDataBytes - metaSizes(meta).encodedBytes;
  if (limit < 3) throw new SessionDataError(`the session's own fields (ids, ip, user agent) already take maxDataBytes (${engine.config.maxDataBytes} bytes)`);
  return prepareData(data, limit);
}

/** A record draft of `meta` and prepared data, with its index tags (keyed hashes of the user and tenant ids). */
export function draftOf(engine: Engine, meta: RecordMeta, prepared: PreparedValue<DataRecord>, expiresAt: number): RecordDraft {
  const entry = engine.ring.current;
  return {
    ...meta,
    data: prepared.value,
    expiresAt,
    userTag: meta.userId === null ? null : tagHex(entry, meta.userId),
    tenantTag: meta.tenantId === null ? null : tagHex(entry, meta.tenantId),
    hasProtoKeys: prepared.hasProtoKeys,
    heapBytes: prepared.heapBytes + metaSizes(meta).heapBytes,
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
