/**
 * A least-recently-used map of sealed records, bounded in bytes, with each
 * entry's TTL ending at its record's expiry. It is the `cache` backend's
 * storage and the cache layer in front of the filesystem and MySQL stores.
 *
 * Expired entries stay readable (the manager reports them as expired rather
 * than missing) until sweepExpired() or LRU pressure removes them.
 */
import { LRUCache } from 'lru-cache';
import type { StoreKey, StoredRecord } from './store.ts';

/**
 * Bytes an entry costs besides its sealed bytes: the 64-character key string,
 * the record object, the Buffer object and its backing store header, and the
 * LRU's slot arrays. Measured by the memory case of `npm run bench` (bytes
 * per cached session after GC, flat from 100k to 1M sessions): about 458 B
 * beside a 228 B sealed record on Node 20, x64.
 */
export const ENTRY_OVERHEAD_BYTES = 460;

export interface CachedRecord extends StoredRecord {
  /** When this process last read or wrote the record through to the backing store (clock ms). */
  readonly cachedAt: number;
}

export interface RecordLruOptions {
  readonly maxBytes: number;
  readonly now: () => number;
  /** Called when an entry leaves for any reason (evicted, deleted, replaced). */
  readonly onRemove?: (key: StoreKey, record: CachedRecord) => void;
}

/**
 * Buffers from mysql2 packets or Buffer.allocUnsafe's pool are views into a
 * larger slab; caching the view would pin the whole slab. Keep exact copies.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

export class RecordLru {
  readonly #cache: LRUCache<StoreKey, CachedRecord>;
  readonly #now: () => number;

  constructor(options: RecordLruOptions) {
    this.#now = options.now;
    const onRemove = options.onRemove;
    this.#cache = new LRUCache<StoreKey, CachedRecord>({
      maxSize: options.maxBytes,
      sizeCalculation: (record) => record.sealed.byteLength + ENTRY_OVERHEAD_BYTES,
      perf: { now: options.now },
      // Stale entries are still returned: "expired" is the manager's call, and cleanup removes them.
      allowStale: true,
      noDeleteOnStaleGet: true,
      ...(onRemove ? { dispose: (record: CachedRecord, key: StoreKey) => onRemove(key, record) } : {}),
    });
  }

  get(key: StoreKey): CachedRecord | undefined {
    return this.#cache.get(key);
  }

  has(key: StoreKey): boolean {
    return this.#cache.has(key, { updateAgeOnHas: false });
  }

  set(key: StoreKey, record: StoredRecord, cachedAt: number = this.#now()): CachedRecord {
    const entry: CachedRecord = {
      version: record.version,
      expiresAt: record.expiresAt,
      userTag: record.userTag,
      tenantTag: record.tenantTag,
      sealed: ownBytes(record.sealed),
      cachedAt,
    };
    // A record larger than the whole budget is simply not cached (lru-cache refuses it).
    this.#cache.set(key, entry, { ttl: Math.max(1, record.expiresAt - this.#now()) });
    return entry;
  }

  delete(key: StoreKey): void {
    this.#cache.delete(key);
  }

  /**
   * Keys of every entry past its expiry at `now`, in one pass (references to
   * the existing key strings, so 8 bytes each). One pass rather than repeated
   * bounded scans: rescanning live entries per batch would be quadratic.
   */
  expiredKeys(now: number): StoreKey[] {
    const keys: StoreKey[] = [];
    for (const entry of this.#cache.rentries()) {
      // lru-cache types rentries() loosely as (K | V)[]; it yields [key, value].
      const [key, record] = entry as [StoreKey, CachedRecord];
      if (record.expiresAt <= now) keys.push(key);
    }
    return keys;
  }

  get entryCount(): number {
    return this.#cache.size;
  }

  get bytes(): number {
    return this.#cache.calculatedSize;
  }

  clear(): void {
    this.#cache.clear();
  }
}
