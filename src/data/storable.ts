/**
 * What may be stored in a session, checked and copied in one walk.
 *
 * `prepareData` is how anything an application hands the engine (a
 * Session's data at save, a value for set or update) enters it: it refuses
 * what the codec cannot round-trip, and returns a private deep copy of the
 * rest, so what was checked is exactly what gets stored and encoded (a
 * mutation after the call, even during an in-flight save, cannot bypass the
 * check). On the way it sums two sizes:
 *
 * - `encodedBytes`: the msgpack size of the value under msgpackr's rules
 *   (codec.ts settings), so maxDataBytes is enforced without encoding, and
 *   the walk stops as soon as the limit is passed (an array of length 5e7
 *   costs a few thousand steps, not 5e7);
 * - `heapBytes`: an estimate of what the copy costs in V8's heap (Node 20,
 *   x64), the in-process tier's budget unit. The constants were measured
 *   with `node --expose-gc` (bytes per retained instance after GC) and the
 *   whole estimate is checked against the heap by the memory case of
 *   `npm run bench`.
 *
 * Storable: strings, numbers (−0 becomes 0, as msgpack stores it),
 * booleans, null, undefined, arrays, plain objects (own `__proto__` keys
 * included, kept as data), Date, Uint8Array (copied as a Buffer, as a read
 * from a persistent store gives it back) and bigint. Strings with lone
 * surrogates are stored with U+FFFD in their place (UTF-8 cannot carry them).
 */
import { SessionDataError } from '../errors.ts';
import type { DataRecord } from '../session-data.ts';

export const MAX_DEPTH = 512;

/** V8 heap costs, in bytes (x64, no pointer compression: Node 20's default build). */
const HEAP = {
  /** JSObject header (map, properties, elements); each property adds a pointer. */
  object: 24,
  /** JSArray (map, properties, elements, length) plus its FixedArray's header. */
  array: 48,
  pointer: 8,
  /** Sequential string header (map, hash, length); characters follow, padded to 8. */
  string: 16,
  heapNumber: 16,
  date: 96,
  /** A Buffer object and its ArrayBuffer; the bytes follow. */
  buffer: 100,
  bigint: 16,
} as const;

export interface PreparedValue<T = unknown> {
  /** A private deep copy of what was given. */
  readonly value: T;
  /** Some object in it has an own `__proto__` key (the codec needs to know: see codec.ts). */
  readonly hasProtoKeys: boolean;
  /** Its msgpack size (msgpackr, useRecords false, bigint extension). */
  readonly encodedBytes: number;
  /** Estimated heap bytes of the copy. */
  readonly heapBytes: number;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function typeName(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const proto = Object.getPrototypeOf(value);
  const name = proto?.constructor?.name;
  return name ? `an instance of ${name}` : 'an object with a foreign prototype';
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `root` followed by each key as JavaScript would write it (data.cart[3]["a b"]), long keys cut. */
function pathOf(root: string, keys: readonly (string | number)[]): string {
  let path = root;
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`;
  }
  return path;
}

/** msgpack header bytes of a str/bin/array/map of `length`. */
function strHeader(bytes: number): number {
  return bytes < 32 ? 1 : bytes < 256 ? 2 : bytes < 65536 ? 3 : 5;
}
function binHeader(bytes: number): number {
  return bytes < 256 ? 2 : bytes < 65536 ? 3 : 5;
}
function arrayHeader(length: number): number {
  return length < 16 ? 1 : length < 65536 ? 3 : 5;
}
/** msgpackr writes every object as a map16, never a fixmap: it patches the size in after the keys. */
const MAP_HEADER = 3;
/** …and so refuses an object of more keys than a map16 counts. */
export const MAX_OBJECT_KEYS = 65535;

function numberBytes(n: number): number {
  if (Number.isInteger(n)) {
    if (n >= 0) return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : n < 4294967296 ? 5 : 9;
    return n >= -32 ? 1 : n >= -128 ? 2 : n >= -32768 ? 3 : n >= -2147483648 ? 5 : 9;
  }
  return 9;
}

/** msgpackr's bigint extension (type 0x42): 64-bit two's-complement chunks, or hex bytes past 65 536 bits; then an ext header. */
function bigintBytes(n: bigint): number {
  if (n >= -(2n ** 63n) && n < 2n ** 64n) return 9;
  const empty = n < 0n ? -1n : 0n;
  let dataBytes: number;
  if (n >> 65536n === empty) {
    let chunks = 1;
    while (n >> BigInt(64 * (chunks - 1) + 63) !== empty) chunks++;
    dataBytes = 8 * chunks;
  } else {
    const hex = (n < 0n ? ~n : n).toString(16);
    dataBytes = hex.length % 2 ? (hex.length + 1) / 2 : hex.length / 2 + (parseInt(hex[0]!, 16) >= 8 ? 1 : 0);
  }
  if (dataBytes === 1 || dataBytes === 2 || dataBytes === 4 || dataBytes === 8 || dataBytes === 16) return 2 + dataBytes;
  return (dataBytes < 256 ? 3 : dataBytes < 65536 ? 4 : 6) + dataBytes;
}

function dateBytes(ms: number): number {
  const seconds = ms / 1000;
  if (ms >= 0 && ms % 1000 === 0 && seconds < 4294967296) return 6;
  if (ms >= 0 && seconds < 2 ** 34) return 10;
  return 15;
}

/** ES2024 string methods (Node 20 has them; the project's TypeScript lib stops at ES2023). */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** UTF-8 cannot carry a lone surrogate: store U+FFFD in its place, as an encode and decode would. */
function wellFormed(text: string): string {
  const checked = text as unknown as WellFormedString;
  return checked.isWellFormed() ? text : checked.toWellFormed();
}

/**
 * A string's heap cost, given its UTF-8 length: V8 keeps it one byte per
 * character when every character is Latin-1, two otherwise; ASCII (UTF-8
 * length equal to its length) is the one case known to be one-byte without a
 * scan, so anything else is counted as two (an upper bound).
 */
export function stringHeapBytes(text: string, utf8Bytes: number): number {
  return HEAP.string + align8(utf8Bytes === text.length ? text.length : 2 * text.length);
}

/** Heap bytes of a user or tenant tag a record holds (32 hex characters). */
export const TAG_HEAP_BYTES = HEAP.string + 32;

function isSmi(n: number): boolean {
  return (n | 0) === n && !Object.is(n, -0);
}

class Walk {
  encoded = 0;
  heap = 0;
  hasProtoKeys = false;
  readonly #ancestors = new Set<object>();
  /** The keys from the root to the value being walked: its path is built from them only for an error message. */
  readonly #keys: (string | number)[] = [];

  constructor(
    readonly limit: number,
    readonly root: string,
  ) {}

  #path(): string {
    return pathOf(this.root, this.#keys);
  }

  #over(): never {
    throw new SessionDataError(`${this.#path()} makes the session encode to more than maxDataBytes (${this.limit} bytes)`);
  }

  #add(encoded: number, heap: number): void {
    this.encoded += encoded;
    this.heap += heap;
    if (this.encoded > this.limit) this.#over();
  }

  /** Copies, checks and measures one value; the container's pointer to it is counted by the container. */
  copy(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case 'string': {
        const text = wellFormed(value);
        const bytes = Buffer.byteLength(text, 'utf8');
        this.#add(strHeader(bytes) + bytes, stringHeapBytes(text, bytes));
        return text;
      }
      case 'number':
        this.#add(numberBytes(value), isSmi(value) ? 0 : HEAP.heapNumber);
        return Object.is(value, -0) ? 0 : value;
      case 'boolean':
        this.#add(1, 0);
        return value;
      case 'undefined':
        this.#add(3, 0);
        return value;
      case 'bigint':
        this.#add(bigintBytes(value), HEAP.bigint + 8 * Math.ceil(value.toString(16).length / 16));
        return value;
      case 'function':
      case 'symbol':
        throw new SessionDataError(`${this.#path()} is ${typeName(value)}, which cannot be stored in a session`);
    }
    if (value === null) {
      this.#add(1, 0);
      return null;
    }
    const object = value as object;
    const proto = Object.getPrototypeOf(object);
    if (proto === Date.prototype) {
      const ms = (object as Date).getTime();
      if (Number.isNaN(ms)) throw new SessionDataError(`${this.#path()} is an invalid Date`);
      this.#add(dateBytes(ms), HEAP.date);
      return new Date(ms);
    }
    if (object instanceof Uint8Array && (proto === Uint8Array.prototype || proto === Buffer.prototype)) {
      const length = object.byteLength;
      this.#add(binHeader(length) + length, HEAP.buffer + align8(length));
      return Buffer.from(object);
    }
    if (depth > MAX_DEPTH) throw new SessionDataError(`${this.#path()} is nested deeper than ${MAX_DEPTH} levels`);
    if (this.#ancestors.has(object)) throw new SessionDataError(`${this.#path()} refers back to itself (a cycle)`);
    this.#ancestors.add(object);
    let copy: unknown;
    if (proto === Array.prototype && Array.isArray(object)) copy = this.#copyArray(object, depth);
    else if (proto === Object.prototype || proto === null) copy = this.#copyObject(object as Record<string, unknown>, depth);
    else {
      throw new SessionDataError(`${this.#path()} is ${typeName(object)}; only plain objects, arrays, strings, numbers, booleans, null, Date, Uint8Array and bigint can be stored`);
    }
    this.#ancestors.delete(object);
    return copy;
  }

  #copyArray(array: readonly unknown[], depth: number): unknown[] {
    const length = array.length;
    // Every element takes at least one byte: a huge (sparse) array fails here, before a copy is allocated.
    if (this.encoded + arrayHeader(length) + length > this.limit) this.#over();
    this.#add(arrayHeader(length), HEAP.array + HEAP.pointer * length);
    const copy = new Array<unknown>(length);
    const keys = this.#keys;
    keys.push(0);
    for (let i = 0; i < length; i++) {
      keys[keys.length - 1] = i;
      copy[i] = this.copy(array[i], depth + 1);
    }
    keys.pop();
    return copy;
  }

  #copyObject(object: Record<string, unknown>, depth: number): Record<string, unknown> {
    if (Object.getOwnPropertySymbols(object).length > 0) throw new SessionDataError(`${this.#path()} has symbol keys, which cannot be stored`);
    const keys = Object.keys(object);
    if (keys.length > MAX_OBJECT_KEYS) throw new SessionDataError(`${this.#path()} has ${keys.length} keys; an object in a session holds at most ${MAX_OBJECT_KEYS}`);
    this.#add(MAP_HEADER, HEAP.object + HEAP.pointer * keys.length);
    const copy: Record<string, unknown> = {};
    for (const key of keys) {
      const keyBytes = Buffer.byteLength(key, 'utf8');
      // Keys are usually shared with the source (internalized); only their encoding is counted.
      this.#add(strHeader(keyBytes) + keyBytes, 0);
      this.#keys.push(key);
      const inner = this.copy(object[key], depth + 1);
      this.#keys.pop();
      if (key === '__proto__') {
        this.hasProtoKeys = true;
        Object.defineProperty(copy, key, { value: inner, enumerable: true, writable: true, configurable: true });
      } else {
        copy[key] = inner;
      }
    }
    return copy;
  }
}

/**
 * Checks, copies and measures any storable value (for set and update).
 * Throws SessionDataError naming the first value that cannot be stored, or
 * when it alone encodes past `limit` bytes.
 */
export function prepareValue<T>(value: T, path: string, limit: number): PreparedValue<T> {
  const walk = new Walk(limit, path);
  const copy = walk.copy(value, 0) as T;
  return { value: copy, hasProtoKeys: walk.hasProtoKeys, encodedBytes: walk.encoded, heapBytes: walk.heap };
}

/** As prepareValue, for a session's whole data: it must be a plain object. */
export function prepareData(data: unknown, limit: number): PreparedValue<DataRecord> {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || !isPlainPrototype(data)) {
    throw new SessionDataError(`session.data must be a plain object; received ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data === 'object' ? typeName(data) : typeof data}`);
  }
  return prepareValue(data as DataRecord, 'data', limit);
}

function isPlainPrototype(object: object): boolean {
  const proto = Object.getPrototypeOf(object);
  return proto === Object.prototype || proto === null;
}

/** The record's fields besides data, as data/storable.ts needs them to size a record. Absent timestamps are sized as the largest (9 bytes). */
export interface MetaForSize {
  readonly id: string;
  readonly userId: string | null;
  readonly tenantId: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly createdAt?: number;
  readonly updatedAt?: number;
  readonly absoluteExpiresAt?: number;
}

/** The msgpack bytes and heap bytes of a record's fields besides data (codec.ts's layout). */
export function metaSizes(fields: MetaForSize): { encodedBytes: number; heapBytes: number } {
  // [FORMAT, flags, id, createdAt, updatedAt, absoluteExpiresAt, userId, tenantId, ipAddress, userAgent, data]
  // Written out rather than looped over arrays: this runs on every write.
  const sizes = { encodedBytes: 1 + 1 + 1 + timeBytes(fields.createdAt) + timeBytes(fields.updatedAt) + timeBytes(fields.absoluteExpiresAt), heapBytes: 0 };
  addTextSize(sizes, fields.id);
  addTextSize(sizes, fields.userId);
  addTextSize(sizes, fields.tenantId);
  addTextSize(sizes, fields.ipAddress);
  addTextSize(sizes, fields.userAgent);
  return sizes;
}

function timeBytes(time: number | undefined): number {
  return time === undefined ? 9 : numberBytes(time);
}

function addTextSize(sizes: { encodedBytes: number; heapBytes: number }, text: string | null): void {
  if (text === null) {
    sizes.encodedBytes += 1;
    return;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  sizes.encodedBytes += strHeader(bytes) + bytes;
  sizes.heapBytes += stringHeapBytes(text, bytes);
}

/**
 * The heap estimate of data that came out of the codec: the same costs as
 * prepareValue's, without copying or checking (decoded data holds only
 * storable kinds). Used when a read-through puts a decoded record into the tier.
 */
export function measureDecoded(value: unknown): { heapBytes: number } {
  const result = { heapBytes: 0 };
  measureInto(value, result, 0);
  return result;
}

function measureInto(value: unknown, into: { heapBytes: number }, depth: number): void {
  switch (typeof value) {
    case 'string':
      into.heapBytes += stringHeapBytes(value, Buffer.byteLength(value, 'utf8'));
      return;
    case 'number':
      if (!isSmi(value)) into.heapBytes += HEAP.heapNumber;
      return;
    case 'bigint':
      into.heapBytes += HEAP.bigint + 8 * Math.ceil(value.toString(16).length / 16);
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null || depth > MAX_DEPTH) return;
  if (value instanceof Date) {
    into.heapBytes += HEAP.date;
  } else if (value instanceof Uint8Array) {
    into.heapBytes += HEAP.buffer + align8(value.byteLength);
  } else if (Array.isArray(value)) {
    into.heapBytes += HEAP.array + HEAP.pointer * value.length;
    for (const item of value) measureInto(item, into, depth + 1);
  } else {
    const keys = Object.keys(value);
    into.heapBytes += HEAP.object + HEAP.pointer * keys.length;
    for (const key of keys) measureInto((value as Record<string, unknown>)[key], into, depth + 1);
  }
}
