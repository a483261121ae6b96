/**
 * Change detection for the framework adapters' automatic save: a deep copy
 * of session data taken when the application first sees it, and a deep
 * comparison with what the data holds when the response goes out. Equal
 * means "nothing to write" (express-session's `resave: false`).
 *
 * Both walk exactly the value types sessions can store (plain objects,
 * arrays, strings, numbers, booleans, null, undefined, Date, Uint8Array,
 * bigint). Anything else (a Map, a class instance, a function) compares as
 * changed, so the save runs and the manager refuses it with ERR_SESSION_DATA
 * (a 400) instead of the value being silently dropped.
 */

/** The codec refuses nesting deeper than this; past it (or in a cycle) the data counts as changed and the save reports why. */
const MAX_DEPTH = 512;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A deep copy of storable data (other objects are kept by reference: they never compare equal anyway). */
export function copyData<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value) as T;
  if (Array.isArray(value)) return value.map((item) => copyData(item, depth + 1)) as T;
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    // defineProperty: an own "__proto__" key is data, never a prototype.
    Object.defineProperty(copy, key, { value: copyData(source[key], depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return copy as T;
}

/** True when `current` holds the same storable data as `snapshot` (a copyData of the data as it was read). */
export function sameData(snapshot: unknown, current: unknown, depth = 0): boolean {
  if (snapshot === current) {
    // The same object on both sides was never copied (not storable, or nested too deep), and functions and
    // symbols cannot be stored at all: let the save judge them (it refuses them with ERR_SESSION_DATA).
    const type = typeof snapshot;
    return snapshot === null || (type !== 'object' && type !== 'function' && type !== 'symbol');
  }
  if (typeof snapshot !== typeof current) return false;
  if (typeof snapshot === 'number') return Number.isNaN(snapshot) && Number.isNaN(current as number);
  if (snapshot === null || current === null || typeof snapshot !== 'object' || depth > MAX_DEPTH) return false;
  const a = snapshot as object;
  const b = current as object;
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof Date || b instanceof Uint8Array || !isPlainObject(a) || !isPlainObject(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(right, key) || !sameData(left[key], right[key], depth + 1)) return false;
  }
  return true;
}
