/**
 * The `cache` backend: records live only in this process's byte-bounded LRU.
 * Exact within one process (every operation is synchronous, so each is
 * atomic); sessions are lost on restart or when the LRU evicts them.
 */
import { CLEANUP_BATCH, inBatches } from './batches.ts';
import { RecordLru, type CachedRecord } from './lru.ts';
import type { KeyedRecord, RecordWrite, SessionStore, StoreKey, StoredRecord } from './store.ts';

export interface MemoryStoreOptions {
  readonly maxBytes: number;
  readonly now: () => number;
}

export class MemoryStore implements SessionStore {
  readonly name = 'cache';
  readonly #lru: RecordLru;
  /** userTag -> keys, kept in step with the LRU through its onRemove hook. */
  readonly #byUser = new Map<string, Set<StoreKey>>();

  constructor(options: MemoryStoreOptions) {
    this.#lru = new RecordLru({
      maxBytes: options.maxBytes,
      now: options.now,
      onRemove: (key, record) => this.#unindex(key, record),
    });
  }

  #index(key: StoreKey, userTag: string | null): void {
    if (userTag === null) return;
    let keys = this.#byUser.get(userTag);
    if (!keys) this.#byUser.set(userTag, (keys = new Set()));
    keys.add(key);
  }

  #unindex(key: StoreKey, record: CachedRecord): void {
    if (record.userTag === null) return;
    const keys = this.#byUser.get(record.userTag);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.#byUser.delete(record.userTag);
  }

  #write(key: StoreKey, version: number, write: RecordWrite): void {
    // set() replaces (and un-indexes through onRemove) before we index the new record.
    this.#lru.set(key, { version, ...write }, 0);
    if (this.#lru.has(key)) this.#index(key, write.userTag);
  }

  async open(): Promise<void> {}

  async find(key: StoreKey): Promise<StoredRecord | null> {
    return this.#lru.get(key) ?? null;
  }

  async insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    if (this.#lru.has(key)) return false;
    this.#write(key, 1, write);
    return true;
  }

  async update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    const current = this.#lru.get(key);
    if (!current || current.version !== expectedVersion) return false;
    this.#write(key, expectedVersion + 1, write);
    return true;
  }

  async touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    const current = this.#lru.get(key);
    if (!current) return false;
    this.#lru.set(key, { ...current, expiresAt }, 0);
    if (this.#lru.has(key)) this.#index(key, current.userTag);
    return true;
  }

  async delete(key: StoreKey): Promise<void> {
    this.#lru.delete(key);
  }

  async deleteExpired(now: number): Promise<number> {
    const expired = this.#lru.expiredKeys(now);
    let removed = 0;
    await inBatches(expired, CLEANUP_BATCH * 10, (keys) => {
      for (const key of keys) {
        // Re-check: a refresh between the scan and this batch may have extended it.
        const record = this.#lru.get(key);
        if (record && record.expiresAt <= now) {
          this.#lru.delete(key);
          removed++;
        }
      }
    });
    return removed;
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    const result: KeyedRecord[] = [];
    for (const key of this.#byUser.get(userTag) ?? []) {
      const record = this.#lru.get(key);
      if (record) result.push({ key, record });
      if (result.length >= limit) break;
    }
    return result;
  }

  async close(): Promise<void> {
    this.#lru.clear();
    this.#byUser.clear();
  }
}
