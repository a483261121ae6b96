/**
 * copyData: the application's private copy of a cached record's data.
 *
 * The in-process tier keeps each record's data as an immutable snapshot
 * shared by every reader (data/storable.ts made it, or the codec decoded
 * it). A Session must never hand that snapshot out: `session.data.cart.push(x)`
 * without a save must not reach the cache or another request. This copier
 * knows exactly the value types a snapshot can hold (plain objects, arrays,
 * Date, Buffer, bigint and primitives), so it needs no checks, and it clones
 * objects with a spread (V8 copies a fast object's shape in one step) rather
 * than by re-decoding or rebuilding key by key.
 */
import type { DataRecord } from '../session-data.ts';

export function copyValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return copyArray(value) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return Buffer.from(value) as T;
  return copyObject(value as DataRecord) as T;
}

function copyArray(array: readonly unknown[]): unknown[] {
  const copy = array.slice();
  for (let i = 0; i < copy.length; i++) {
    const item = copy[i];
    if (typeof item === 'object' && item !== null) copy[i] = copyValue(item);
  }
  return copy;
}

function copyObject(object: DataRecord): DataRecord {
  // Spread defines own properties (an own `__proto__` key stays a key, never a prototype).
  const copy: DataRecord = { ...object };
  // Own keys only (for…in would also visit enumerable keys someone added to Object.prototype).
  for (const key of Object.keys(copy)) {
    const item = copy[key];
    if (typeof item === 'object' && item !== null) {
      if (key === '__proto__') Object.defineProperty(copy, key, { value: copyValue(item), enumerable: true, writable: true, configurable: true });
      else copy[key] = copyValue(item);
    }
  }
  return copy;
}

/** A private copy of a whole data snapshot. */
export function copyData(data: DataRecord): DataRecord {
  return copyObject(data);
}
