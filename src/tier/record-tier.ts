/**
 * RecordTier: the in-process tier's storage. A segmented LRU of open
 * records, bounded in (estimated) bytes, on two lru-cache instances:
 *
 * - probation: where every new entry lands. It may use whatever protected
 *   does not, and never less than PROBATION_SHARE of the budget;
 * - protected (at most the rest): where an entry goes when it is read again.
 *
 * A flood of one-shot sessions (100k logins from one client) only churns
 * probation: when the budget is full, probation's least recently used entry
 * goes first. Sessions in use were read at least twice and sit in
 * protected, out of its reach. When protected is full its least recently
 * used entry is demoted to probation rather than dropped, so it gets one
 * more chance.
 * (The segmented LRU of Karedla et al., 1994; the same idea as Caffeine's
 * window/main split, without its frequency sketch.)
 *
 * For the `cache` backend this tier is the store itself, so an eviction is
 * a session lost: `evictions` counts them, and onEvict lets the store keep
 * its user index in step. In front of a persistent store an eviction only
 * costs a later read-through.
 */
import { LRUCache } from 'lru-cache';
import type { StoreKey } from '../stores/store.ts';
import type { OpenRecord } from './open-record.ts';

/** Share of the byte budget for new entries. Large enough for bursts of legitimate logins between their first and second requests. */
export const PROBATION_SHARE = 0.2;

/**
 * Heap bytes an entry costs besides its fields' own estimate: the record
 * object (15 slots and its createdAt box), the 32-character key string, and
 * lru-cache's per-entry bookkeeping (its key map, slot arrays, sizes), plus
 * the user index's slot in the cache backend. Checked against the heap by the
 * memory case of `npm run bench`: the estimate was 839 B per example session
 * against 819 B measured after GC at 100k sessions (Node 20, x64).
 */
export const ENTRY_OVERHEAD_BYTES = 360;

export interface RecordTierOptions {
  readonly maxBytes: number;
  /** An entry left the tier for good (evicted by the budget; not replaced, deleted or demoted). */
  readonly onEvict?: (key: StoreKey, record: OpenRecord) => void;
}

export interface TierStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

export class RecordTier {
  readonly #probation: LRUCache<StoreKey, OpenRecord>;
  readonly #protected: LRUCache<StoreKey, OpenRecord>;
  readonly #maxBytes: number;
  readonly #largestEntry: number;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(options: RecordTierOptions) {
    this.#maxBytes = options.maxBytes;
    const probationBytes = Math.max(1, Math.floor(options.maxBytes * PROBATION_SHARE));
    this.#largestEntry = probationBytes;
    const onEvict = options.onEvict;
    this.#probation = new LRUCache<StoreKey, OpenRecord>({
      // Its real bound is what protected leaves free (see #trim); this only caps it at the whole budget.
      maxSize: Math.max(1, options.maxBytes),
      dispose: (record, key, reason) => {
        if (reason !== 'evict') return;
        this.#evictions++;
        onEvict?.(key, record);
      },
    });
    this.#protected = new LRUCache<StoreKey, OpenRecord>({
      maxSize: Math.max(1, options.maxBytes - probationBytes),
      // Demoted, not dropped: the least recently used protected entry gets another chance in probation.
      dispose: (record, key, reason) => {
        if (reason === 'evict') this.#probation.set(key, record, { size: sizeOf(record) });
      },
    });
  }

  /** The largest entry (fields' estimate plus overhead) the tier can hold: a new entry must fit in probation. */
  get largestEntryBytes(): number {
    return this.#largestEntry;
  }

  /** The entry, counting a hit or a miss; a hit on a probation entry promotes it (it has now been used twice). */
  get(key: StoreKey): OpenRecord | undefined {
    const hot = this.#protected.get(key);
    if (hot !== undefined) {
      this.#hits++;
      return hot;
    }
    const record = this.#probation.get(key);
    if (record === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#probation.delete(key);
    // The record's own key string, not the caller's equal copy: the tier then holds one string per entry.
    this.#protected.set(record.key, record, { size: sizeOf(record) });
    this.#trim();
    return record;
  }

  /** Keeps both segments within the budget together: probation gives way to protected, oldest first. */
  #trim(): void {
    while (this.#protected.calculatedSize + this.#probation.calculatedSize > this.#maxBytes && this.#probation.size > 0) this.#probation.pop();
  }

  /** The entry without counting or promoting it (writers' checks, sweeps). */
  peek(key: StoreKey): OpenRecord | undefined {
    return this.#protected.peek(key) ?? this.#probation.peek(key);
  }

  has(key: StoreKey): boolean {
    return this.#protected.has(key) || this.#probation.has(key);
  }

  /**
   * Stores `record` under `key`, replacing what was there in the same
   * segment (a write is not a second use). False, and nothing changed, when
   * it is too large to be held at all (larger than the probation segment).
   */
  set(key: StoreKey, record: OpenRecord): boolean {
    const size = sizeOf(record);
    if (size > this.#largestEntry) return false;
    if (this.#protected.has(key)) this.#protected.set(record.key, record, { size });
    else this.#probation.set(record.key, record, { size });
    this.#trim();
    return true;
  }

  delete(key: StoreKey): void {
    this.#protected.delete(key);
    this.#probation.delete(key);
  }

  /**
   * Keys of every entry whose idle expiry is at or before `now`, in one pass
   * (references to the existing key strings: 8 bytes each). One pass rather
   * than repeated bounded scans: rescanning live entries per batch would be quadratic.
   */
  expiredKeys(now: number): StoreKey[] {
    const keys: StoreKey[] = [];
    for (const segment of [this.#protected, this.#probation]) {
      for (const entry of segment.rentries()) {
        // lru-cache types rentries() loosely; it yields [key, value].
        const [key, record] = entry as [StoreKey, OpenRecord];
        if (record.expiresAt <= now) keys.push(key);
      }
    }
    return keys;
  }

  get stats(): TierStats {
    return {
      entries: this.#protected.size + this.#probation.size,
      bytes: this.#protected.calculatedSize + this.#probation.calculatedSize,
      maxBytes: this.#maxBytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    };
  }

  clear(): void {
    this.#protected.clear();
    this.#probation.clear();
  }
}

function sizeOf(record: OpenRecord): number {
  return record.heapBytes + ENTRY_OVERHEAD_BYTES;
}
