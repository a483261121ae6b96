/**
 * The plaintext of a record: msgpack, self-describing (no shared record
 * structures), so any node and any restart can decode it.
 *
 * Layout: [FORMAT, flags, id, createdAt, updatedAt, absoluteExpiresAt,
 *          userId, tenantId, ipAddress, userAgent, data]
 *
 * Values that round-trip: strings, numbers (−0 is stored as 0), booleans,
 * null, undefined, arrays, plain objects (own `__proto__` keys included),
 * Date, Uint8Array (read back as Buffer, a Uint8Array) and bigint.
 * Anything else is refused by data/storable.ts before a byte is written.
 */
import { Packr } from 'msgpackr';
import type { DataRecord } from './session-data.ts';

const FORMAT = 1;
/** Set when some object in `data` has an own `__proto__` key: msgpackr's object decoding renames it, so such records take the Map path. */
const FLAG_PROTO_KEYS = 1;

const packr = new Packr({ useRecords: false, useBigIntExtension: true, mapsAsObjects: true });
const mapUnpackr = new Packr({ useRecords: false, useBigIntExtension: true, mapsAsObjects: false });


export interface RecordFields {
  readonly id: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly absoluteExpiresAt: number;
  readonly userId: string | null;
  readonly tenantId: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly data: DataRecord;
}

/** Encodes a record. `hasProtoKeys` comes from data/storable.ts's walk over `fields.data`. */
export function encodeRecord(fields: RecordFields, hasProtoKeys: boolean): Buffer {
  return packr.pack([
    FORMAT,
    hasProtoKeys ? FLAG_PROTO_KEYS : 0,
    fields.id,
    fields.createdAt,
    fields.updatedAt,
    fields.absoluteExpiresAt,
    fields.userId,
    fields.tenantId,
    fields.ipAddress,
    fields.userAgent,
    fields.data,
  ]);
}

/** Rebuilds plain objects from msgpackr Maps, defining `__proto__` as an own key rather than a prototype. */
function fromMaps(value: unknown): unknown {
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, inner] of value) {
      Object.defineProperty(object, String(key), { value: fromMaps(inner), enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  if (Array.isArray(value)) return value.map(fromMaps);
  return value;
}

function nullableString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Decodes a record; null for bytes that are not a record of this format (never throws). */
export function decodeRecord(bytes: Uint8Array): RecordFields | null {
  let fields: unknown;
  try {
    fields = packr.unpack(bytes);
    if (Array.isArray(fields) && fields[1] === FLAG_PROTO_KEYS) fields = fromMaps(mapUnpackr.unpack(bytes));
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 11 || fields[0] !== FORMAT) return null;
  const [, , id, createdAt, updatedAt, absoluteExpiresAt, userId, tenantId, ipAddress, userAgent, data] = fields;
  if (typeof id !== 'string' || typeof createdAt !== 'number' || typeof updatedAt !== 'number' || typeof absoluteExpiresAt !== 'number') return null;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  return {
    id,
    createdAt,
    updatedAt,
    absoluteExpiresAt,
    userId: nullableString(userId),
    tenantId: nullableString(tenantId),
    ipAddress: nullableString(ipAddress),
    userAgent: nullableString(userAgent),
    data: data as DataRecord,
  };
}

/** Structural equality over storable values: how save() finds the keys a session object changed. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    if (!sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
