/**
 * The `cache` backend: sessions live only in this process's RecordTier, as
 * open records. No encoding and no crypto, ever: nothing leaves the process.
 * Exact within one process (every operation is synchronous, so each is
 * atomic); sessions are lost on restart, or when the byte budget evicts them
 * (the tier's segmented LRU keeps sessions in use safe from a flood of new ones).
 */
import { SessionClosedError, SessionDataError } from '../errors.ts';
import { CLEANUP_BATCH, inBatches } from '../stores/batches.ts';
import type { StoreKey } from '../stores/store.ts';
import { openRecord, withExpiry, type KeyedOpenRecord, type OpenRecord, type RecordDraft } from './open-record.ts';
import type { RecordStore } from './record-store.ts';
import { RecordTier, type TierStats } from './record-tier.ts';

export interface MemoryRecordStoreOptions {
  readonly maxBytes: number;
}

export class MemoryRecordStore implements RecordStore {
  readonly name = 'cache';
  readonly #tier: RecordTier;
  /**
   * userTag -> its key, or its keys once it has several (most users have one
   * session: a Set for each would cost ~150 bytes a session). Kept in step
   * with the tier: writes, deletes and evictions.
   */
  readonly #byUser = new Map<string, StoreKey | Set<StoreKey>>();
  #closed = false;

  constructor(options: MemoryRecordStoreOptions) {
    this.#tier = new RecordTier({ maxBytes: options.maxBytes, onEvict: (key, record) => this.#unindex(key, record.userTag) });
  }

  get stats(): TierStats {
    return this.#tier.stats;
  }

  #index(key: StoreKey, userTag: string | null): void {
    if (userTag === null) return;
    const keys = this.#byUser.get(userTag);
    if (keys === undefined || keys === key) this.#byUser.set(userTag, key);
    else if (typeof keys === 'string') this.#byUser.set(userTag, new Set([keys, key]));
    else keys.add(key);
  }

  #unindex(key: StoreKey, userTag: string | null): void {
    if (userTag === null) return;
    const keys = this.#byUser.get(userTag);
    if (keys === undefined) return;
    if (typeof keys === 'string') {
      if (keys === key) this.#byUser.delete(userTag);
      return;
    }
    keys.delete(key);
    if (keys.size === 1) this.#byUser.set(userTag, keys.values().next().value!);
  }

  #keysOf(userTag: string): Iterable<StoreKey> {
    const keys = this.#byUser.get(userTag);
    return keys === undefined ? [] : typeof keys === 'string' ? [keys] : keys;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionClosedError('the cache store is closed');
  }

  /** Stores a record, or refuses it whole: a session the budget cannot hold is a data error, never a silent loss. */
  #put(key: StoreKey, record: OpenRecord, previous: OpenRecord | undefined): void {
    if (!this.#tier.set(key, record)) {
      throw new SessionDataError(
        `the session needs about ${record.heapBytes} bytes in memory, more than the cache store can hold per session ` +
          `(${this.#tier.largestEntryBytes} bytes, a fifth of cache.maxBytes): raise cache.maxBytes or store less`,
      );
    }
    if (previous && previous.userTag !== record.userTag) this.#unindex(key, previous.userTag);
    this.#index(key, record.userTag);
  }

  async open(): Promise<void> {}

  /**
   * Authoritative: null means no such session (undefined only once closed,
   * so that find() says so). One process holds every version there is, so
   * minVersion needs nothing.
   */
  peek(key: StoreKey, _minVersion?: number): OpenRecord | null | undefined {
    if (this.#closed) return undefined;
    return this.#tier.get(key) ?? null;
  }

  async find(key: StoreKey, _minVersion?: number): Promise<OpenRecord | null> {
    this.#assertOpen();
    return this.#tier.get(key) ?? null;
  }

  /**
   * The user tag string the index already holds for this tag, if any: every
   * record of a user then shares one string with the index (48 bytes each
   * otherwise, since each write computes its tag afresh).
   */
  #sharedTag(draft: RecordDraft): RecordDraft {
    const tag = draft.userTag;
    if (tag === null) return draft;
    const keys = this.#byUser.get(tag);
    if (keys === undefined) return draft;
    const indexed = this.#tier.peek(typeof keys === 'string' ? keys : keys.values().next().value!)?.userTag;
    return indexed === undefined || indexed === null || indexed === tag ? draft : { ...draft, userTag: indexed };
  }

  async insert(key: StoreKey, draft: RecordDraft): Promise<OpenRecord | null> {
    this.#assertOpen();
    if (this.#tier.has(key)) return null;
    const record = openRecord(key, this.#sharedTag(draft), 1, 0);
    this.#put(key, record, undefined);
    return record;
  }

  async update(key: StoreKey, expectedVersion: number, draft: RecordDraft): Promise<OpenRecord | null> {
    this.#assertOpen();
    const current = this.#tier.peek(key);
    if (!current || current.version !== expectedVersion) return null;
    const record = openRecord(key, this.#sharedTag(draft), expectedVersion + 1, 0);
    this.#put(key, record, current);
    return record;
  }

  async touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    this.#assertOpen();
    const current = this.#tier.peek(key);
    if (!current) return false;
    this.#tier.set(key, withExpiry(current, expiresAt));
    return true;
  }

  async delete(key: StoreKey): Promise<void> {
    this.#assertOpen();
    const current = this.#tier.peek(key);
    if (!current) return;
    this.#tier.delete(key);
    this.#unindex(key, current.userTag);
  }

  async deleteExpired(now: number): Promise<number> {
    this.#assertOpen();
    const expired = this.#tier.expiredKeys(now);
    let removed = 0;
    await inBatches(expired, CLEANUP_BATCH * 10, (keys) => {
      if (this.#closed) return;
      for (const key of keys) {
        // Re-check: a refresh between the scan and this batch may have extended it.
        const record = this.#tier.peek(key);
        if (record && record.expiresAt <= now) {
          this.#tier.delete(key);
          this.#unindex(key, record.userTag);
          removed++;
        }
      }
    });
    return removed;
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedOpenRecord[]> {
    this.#assertOpen();
    const result: KeyedOpenRecord[] = [];
    for (const key of this.#keysOf(userTag)) {
      const record = this.#tier.peek(key);
      if (record) result.push({ key, record });
      if (result.length >= limit) break;
    }
    return result;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#tier.clear();
    this.#byUser.clear();
  }
}
