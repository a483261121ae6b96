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
 * Anything else is refused by assertStorable() before a byte is written.
 */
import { Packr } from 'msgpackr';
import { SessionDataError } from './errors.ts';
import type { DataRecord } from './session-data.ts';

const FORMAT = 1;
/** Set when some object in `data` has an own `__proto__` key: msgpackr's object decoding renames it, so such records take the Map path. */
const FLAG_PROTO_KEYS = 1;
const MAX_DEPTH = 512;

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

function typeName(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const proto = Object.getPrototypeOf(value);
  const name = proto?.constructor?.name;
  return name ? `an instance of ${name}` : 'an object with a foreign prototype';
}

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Throws SessionDataError naming the first value that cannot be stored.
 * Returns true when some object has an own `__proto__` key.
 */
export function assertStorable(value: unknown, path = 'data'): boolean {
  return walk(value, path, 0, new Set());
}

function walk(value: unknown, path: string, depth: number, ancestors: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return false;
    case 'function':
    case 'symbol':
      throw new SessionDataError(`${path} is ${typeName(value)}, which cannot be stored in a session`);
  }
  if (value === null) return false;
  const object = value as object;
  if (depth > MAX_DEPTH) throw new SessionDataError(`${path} is nested deeper than ${MAX_DEPTH} levels`);
  const proto = Object.getPrototypeOf(object);
  if (object instanceof Date && proto === Date.prototype) {
    if (Number.isNaN(object.getTime())) throw new SessionDataError(`${path} is an invalid Date`);
    return false;
  }
  if (object instanceof Uint8Array && (proto === Uint8Array.prototype || proto === Buffer.prototype)) return false;
  if (ancestors.has(object)) throw new SessionDataError(`${path} refers back to itself (a cycle)`);
  let hasProtoKey = false;
  ancestors.add(object);
  if (Array.isArray(object) && proto === Array.prototype) {
    for (let i = 0; i < object.length; i++) {
      if (walk(object[i], pathOf(path, i), depth + 1, ancestors)) hasProtoKey = true;
    }
  } else if (proto === Object.prototype || proto === null) {
    if (Object.getOwnPropertySymbols(object).length > 0) throw new SessionDataError(`${path} has symbol keys, which cannot be stored`);
    for (const key of Object.keys(object)) {
      if (key === '__proto__') hasProtoKey = true;
      if (walk((object as Record<string, unknown>)[key], pathOf(path, key), depth + 1, ancestors)) hasProtoKey = true;
    }
  } else {
    throw new SessionDataError(`${path} is ${typeName(object)}; only plain objects, arrays, strings, numbers, booleans, null, Date, Uint8Array and bigint can be stored`);
  }
  ancestors.delete(object);
  return hasProtoKey;
}

/** Encodes a record. `hasProtoKeys` comes from assertStorable() over `fields.data`. */
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
