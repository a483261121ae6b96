/**
 * Write-through cache: a byte-bounded LRU of sealed records in front of a
 * shared store (filesystem or MySQL).
 *
 * - Writes go to the backing store first; the cache changes only after it
 *   succeeded. A failed or refused write evicts the key, so the next read
 *   asks the store and nothing claims a write that did not happen.
 * - A cached record is served for at most `staleMs` after this process last
 *   read or wrote it. Other processes' changes are therefore seen at most
 *   that late; a stale read never loses a write, because every write is a
 *   compare-and-swap in the backing store, which refuses the stale version.
 * - Within one process the cache is exact: a read that was in flight while
 *   this process changed the same key is returned to its caller but not
 *   cached, so it cannot overwrite the newer entry (or revive a deleted one).
 * - Concurrent misses of one key share one backing read.
 */
import { RecordLru } from './lru.ts';
import type { KeyedRecord, RecordWrite, SessionStore, StoreKey, StoredRecord } from './store.ts';

export interface CachedStoreOptions {
  readonly maxBytes: number;
  readonly staleMs: number;
  readonly now: () => number;
}

interface InflightRead {
  readonly promise: Promise<StoredRecord | null>;
  invalidated: boolean;
}

export class CachedStore implements SessionStore {
  readonly name: string;
  readonly backing: SessionStore;
  readonly #lru: RecordLru;
  readonly #staleMs: number;
  readonly #now: () => number;
  readonly #inflight = new Map<StoreKey, InflightRead>();

  constructor(backing: SessionStore, options: CachedStoreOptions) {
    this.backing = backing;
    this.name = `cached(${backing.name})`;
    this.#staleMs = options.staleMs;
    this.#now = options.now;
    this.#lru = new RecordLru({ maxBytes: options.maxBytes, now: options.now });
  }

  /** Entries and bytes held, for benchmarks and metrics. */
  get cacheStats(): { entries: number; bytes: number } {
    return { entries: this.#lru.entryCount, bytes: this.#lru.bytes };
  }

  open(): Promise<void> {
    return this.backing.open();
  }

  find(key: StoreKey, minVersion = 0): Promise<StoredRecord | null> {
    const cached = this.#lru.get(key);
    // Older than what the client has seen (it wrote through another node): read through, whatever its age.
    if (cached && cached.version >= minVersion && this.#now() - cached.cachedAt < this.#staleMs) return Promise.resolve(cached);
    const pending = this.#inflight.get(key);
    if (pending) return pending.promise;
    return this.#readThrough(key, minVersion);
  }

  #readThrough(key: StoreKey, minVersion: number): Promise<StoredRecord | null> {
    const read: InflightRead = {
      invalidated: false,
      promise: this.backing.find(key, minVersion).then(
        (record) => {
          if (this.#inflight.get(key) === read) this.#inflight.delete(key);
          if (!read.invalidated) {
            if (record) this.#lru.set(key, record);
            else this.#lru.delete(key);
          }
          return record;
        },
        (error: unknown) => {
          if (this.#inflight.get(key) === read) this.#inflight.delete(key);
          throw error;
        },
      ),
    };
    this.#inflight.set(key, read);
    return read.promise;
  }

  /** A change to `key` is under way: reads already in flight must not cache what they saw. */
  #invalidateReads(key: StoreKey): void {
    const pending = this.#inflight.get(key);
    if (pending) {
      pending.invalidated = true;
      this.#inflight.delete(key);
    }
  }

  async #mutate<T>(key: StoreKey, write: () => Promise<T>, onDone: (result: T) => void): Promise<T> {
    this.#invalidateReads(key);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      this.#lru.delete(key);
      throw error;
    } finally {
      this.#invalidateReads(key);
    }
    onDone(result);
    return result;
  }

  insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    return this.#mutate(key, () => this.backing.insert(key, write), (inserted) => {
      if (inserted) this.#lru.set(key, { version: 1, ...write });
      else this.#lru.delete(key);
    });
  }

  update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    return this.#mutate(key, () => this.backing.update(key, expectedVersion, write), (updated) => {
      if (updated) this.#lru.set(key, { version: expectedVersion + 1, ...write });
      else this.#lru.delete(key); // our copy was stale: the next read goes to the store
    });
  }

  touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    return this.#mutate(key, () => this.backing.touch(key, expiresAt), (touched) => {
      const cached = this.#lru.get(key);
      if (!touched) this.#lru.delete(key);
      // Keep the old cachedAt: the touch proves nothing about the cached version being current.
      else if (cached) this.#lru.set(key, { ...cached, expiresAt }, cached.cachedAt);
    });
  }

  delete(key: StoreKey): Promise<void> {
    return this.#mutate(key, () => this.backing.delete(key), () => this.#lru.delete(key));
  }

  async deleteExpired(now: number): Promise<number> {
    const removed = await this.backing.deleteExpired(now);
    for (const key of this.#lru.expiredKeys(now)) this.#lru.delete(key);
    return removed;
  }

  listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    return this.backing.listByUser(userTag, limit);
  }

  async close(): Promise<void> {
    this.#lru.clear();
    await this.backing.close();
  }
}
