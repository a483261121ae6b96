/**
 * SealedRecordStore: the in-process tier in front of a persistent store
 * (filesystem or MySQL) that keeps sealed bytes.
 *
 * - Records are sealed at this boundary only: once per write (encode, seal,
 *   then the backing store's compare-and-swap), and opened once per
 *   read-through. A cache hit does no crypto and no decoding.
 * - Writes go to the backing store first; the tier changes only after it
 *   succeeded. A failed or refused write drops the key, so the next read
 *   asks the store and nothing claims a write that did not happen.
 * - A cached record is served for at most `staleMs` after this process last
 *   read or wrote it, and never when the client's cookie says it has seen a
 *   newer version (it wrote through another node): read-your-writes on every
 *   node, other clients' changes within staleMs. A stale read never loses a
 *   write, because every write is a compare-and-swap in the backing store.
 * - Within one process the tier is exact: a read that was in flight while
 *   this process changed the same key is returned to its caller but not
 *   cached, so it cannot overwrite the newer entry (or revive a deleted one).
 * - Concurrent misses of one key share one backing read (when it asks for
 *   a version at least as new).
 * - A record that does not open (corrupt, foreign, moved to another key, or
 *   sealed with a key no longer in the ring) reads as missing and is reported.
 */
import { LRUCache } from 'lru-cache';
import { decodeRecord, encodeRecord } from '../codec.ts';
import type { Sealer } from '../crypto/sealer.ts';
import { asStoreError, SessionClosedError, SessionStoreError } from '../errors.ts';
import type { KeyedRecord, RecordWrite, SessionStore, StoreKey, StoredRecord } from '../stores/store.ts';
import { measureDecoded, metaSizes, TAG_HEAP_BYTES } from '../data/storable.ts';
import { openRecord, withExpiry, type KeyedOpenRecord, type OpenRecord, type RecordDraft } from './open-record.ts';
import type { RecordStore } from './record-store.ts';
import { RecordTier, type TierStats } from './record-tier.ts';
import { hexOf, tierKeyOf, type TierKey } from './tier-key.ts';

export interface SealedRecordStoreOptions {
  readonly maxBytes: number;
  readonly staleMs: number;
  readonly now: () => number;
  readonly onError: (error: Error) => void;
}

/** Keys remembered as missing (about 100 bytes each): enough for the dead cookies a busy server sees within staleMs. */
const MISSING_ENTRIES = 10_000;

interface InflightRead {
  promise: Promise<OpenRecord | null>;
  readonly minVersion: number;
  invalidated: boolean;
}

/** Backing stores reject with SessionStoreError themselves (their contract); this net turns anything else into one. */
function storeFailure(operation: string): (error: unknown) => never {
  return (error) => {
    throw asStoreError(operation, error);
  };
}

/** The record's place binds its sealed bytes: a blob copied to another key does not open. (The hex spelling's bytes: records sealed before the tier keyed by bytes still open.) */
function additionalData(hex: StoreKey): Buffer {
  return Buffer.from(hex, 'latin1');
}

interface KnownMissing {
  readonly at: number;
  /** The highest version this answers for: what the read asked for, or Infinity for a delete made here. */
  readonly upTo: number;
}

export class SealedRecordStore implements RecordStore {
  readonly name: string;
  readonly backing: SessionStore;
  readonly #sealer: Sealer;
  readonly #tier: RecordTier;
  readonly #staleMs: number;
  readonly #now: () => number;
  readonly #onError: (error: Error) => void;
  readonly #inflight = new Map<TierKey, InflightRead>();
  /**
   * Keys known missing (destroyed here, or read as missing), and when: a
   * dead cookie replayed on every request (a bot, an attacker, a stale tab)
   * is then answered from memory for staleMs, not with a read of the store
   * each time. Bounded in entries; a destroyed session cannot come back.
   * A read that found a key missing answers only for versions up to the one
   * it asked for: a cookie proving a newer version was written (on another
   * node, after this node's read by id) reads through.
   */
  readonly #missing = new LRUCache<TierKey, KnownMissing>({ max: MISSING_ENTRIES });
  #closed = false;

  constructor(backing: SessionStore, sealer: Sealer, options: SealedRecordStoreOptions) {
    this.backing = backing;
    this.name = `cached(${backing.name})`;
    this.#sealer = sealer;
    this.#staleMs = options.staleMs;
    this.#now = options.now;
    this.#onError = options.onError;
    this.#tier = new RecordTier({ maxBytes: options.maxBytes });
  }

  get stats(): TierStats {
    return this.#tier.stats;
  }

  open(): Promise<void> {
    return this.backing.open();
  }

  peek(key: TierKey, minVersion: number): OpenRecord | null | undefined {
    if (this.#closed) return undefined; // find() says why
    const cached = this.#tier.peek(key);
    if (cached !== undefined) {
      if (cached.version < minVersion || this.#now() - cached.cachedAt >= this.#staleMs) return undefined;
      // Counted (and promoted) only when served: a copy refused as stale or older is a miss.
      return this.#tier.get(key);
    }
    const missing = this.#missing.get(key);
    if (missing !== undefined && missing.upTo >= minVersion && this.#now() - missing.at < this.#staleMs) return null;
    return undefined;
  }

  find(key: TierKey, minVersion: number): Promise<OpenRecord | null> {
    if (this.#closed) return Promise.reject(new SessionClosedError('the session store is closed'));
    const cached = this.peek(key, minVersion);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.#inflight.get(key);
    if (pending && pending.minVersion >= minVersion) return pending.promise;
    return this.#readThrough(key, minVersion);
  }

  #readThrough(key: TierKey, minVersion: number): Promise<OpenRecord | null> {
    const read: InflightRead = { promise: Promise.resolve(null), minVersion, invalidated: false };
    read.promise = (async () => {
      try {
        const hex = hexOf(key);
        const stored = await this.backing.find(hex, minVersion).catch(storeFailure('find'));
        const record = stored && (await this.#openStored(key, hex, stored));
        if (!read.invalidated && !this.#closed) this.#keepRead(key, record, minVersion);
        return record;
      } finally {
        if (this.#inflight.get(key) === read) this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, read);
    return read.promise;
  }

  /**
   * What a read-through saw, kept unless the tier already holds something
   * newer: reads of one key can overlap (one that asked for a newer version
   * does not wait for an older one), and the older answer must not replace
   * the newer.
   */
  #keepRead(key: TierKey, record: OpenRecord | null, minVersion: number): void {
    const held = this.#tier.peek(key);
    if (record === null) {
      if (held === undefined) this.#missing.set(key, { at: this.#now(), upTo: minVersion });
      else this.#tier.delete(key);
      return;
    }
    this.#missing.delete(key);
    if (held !== undefined && held.version > record.version) return;
    if (!this.#tier.set(key, record)) this.#tier.delete(key);
  }

  /** Opens and decodes a stored record; null (reported) when it does not open under this key. */
  async #openStored(key: TierKey, hex: StoreKey, stored: StoredRecord): Promise<OpenRecord | null> {
    const opened = await this.#sealer.open('record', stored.sealed, additionalData(hex));
    const fields = opened && decodeRecord(opened.plaintext);
    if (!fields) {
      this.#onError(new SessionStoreError(`record ${hex.slice(0, 12)}… did not open (corrupt, foreign or sealed with an unknown key); treated as missing`));
      return null;
    }
    const data = measureDecoded(fields.data);
    const heapBytes = metaSizes(fields).heapBytes + data.heapBytes + (stored.userTag === null ? 0 : TAG_HEAP_BYTES);
    return openRecord(
      key,
      { ...fields, expiresAt: stored.expiresAt, userTag: stored.userTag, heapBytes },
      stored.version,
      this.#now(),
    );
  }

  async #sealedWrite(hex: StoreKey, draft: RecordDraft): Promise<RecordWrite> {
    const sealed = await this.#sealer.seal('record', encodeRecord(draft, draft.hasProtoKeys), additionalData(hex));
    return { expiresAt: draft.expiresAt, userTag: draft.userTag, tenantTag: draft.tenantTag, sealed };
  }

  /** A change to `key` is under way: reads already in flight must not cache what they saw. */
  #invalidateReads(key: TierKey): void {
    const pending = this.#inflight.get(key);
    if (pending) {
      pending.invalidated = true;
      this.#inflight.delete(key);
    }
  }

  /** Runs one write against the backing store; the tier changes (in `onDone`) in the same turn the write settles, so nothing slips in between. */
  async #mutate<T, R>(key: TierKey, write: () => Promise<T>, onDone: (result: T) => R): Promise<R> {
    if (this.#closed) throw new SessionClosedError('the session store is closed');
    this.#invalidateReads(key);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      this.#tier.delete(key);
      throw asStoreError('write', error);
    } finally {
      this.#invalidateReads(key);
    }
    return onDone(result);
  }

  insert(key: TierKey, draft: RecordDraft): Promise<OpenRecord | null> {
    return this.#mutate(
      key,
      async () => {
        const hex = hexOf(key);
        return this.backing.insert(hex, await this.#sealedWrite(hex, draft));
      },
      (inserted) => (inserted ? this.#cache(key, openRecord(key, draft, 1, this.#now())) : this.#drop(key)),
    );
  }

  update(key: TierKey, expectedVersion: number, draft: RecordDraft): Promise<OpenRecord | null> {
    return this.#mutate(
      key,
      async () => {
        const hex = hexOf(key);
        return this.backing.update(hex, expectedVersion, await this.#sealedWrite(hex, draft));
      },
      // Refused: our copy was stale, so the next read goes to the store.
      (updated) => (updated ? this.#cache(key, openRecord(key, draft, expectedVersion + 1, this.#now())) : this.#drop(key)),
    );
  }

  /** Keeps what was just written. A record too large for the tier is not cached, and the older copy is dropped: it is stale now. */
  #cache(key: TierKey, record: OpenRecord): OpenRecord {
    this.#missing.delete(key);
    if (this.#closed || !this.#tier.set(key, record)) this.#tier.delete(key);
    return record;
  }

  #drop(key: TierKey): null {
    this.#tier.delete(key);
    return null;
  }

  touch(key: TierKey, expiresAt: number): Promise<boolean> {
    return this.#mutate(
      key,
      () => this.backing.touch(hexOf(key), expiresAt),
      (touched) => {
        const cached = this.#tier.peek(key);
        if (!touched) this.#tier.delete(key);
        // Keeps cachedAt: the touch proves nothing about the cached version being current.
        else if (cached) this.#cache(key, withExpiry(cached, expiresAt));
        return touched;
      },
    );
  }

  delete(key: TierKey): Promise<void> {
    return this.#mutate(
      key,
      () => this.backing.delete(hexOf(key)),
      () => {
        this.#tier.delete(key);
        this.#missing.set(key, { at: this.#now(), upTo: Infinity });
      },
    );
  }

  async deleteExpired(now: number): Promise<number> {
    if (this.#closed) throw new SessionClosedError('the session store is closed');
    const removed = await this.backing.deleteExpired(now).catch(storeFailure('deleteExpired'));
    for (const key of this.#tier.expiredKeys(now)) this.#tier.delete(key);
    return removed;
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedOpenRecord[]> {
    if (this.#closed) throw new SessionClosedError('the session store is closed');
    const listed: KeyedRecord[] = await this.backing.listByUser(userTag, limit).catch(storeFailure('listByUser'));
    const result: KeyedOpenRecord[] = [];
    for (const { key: hex, record } of listed) {
      const key = tierKeyOf(hex);
      const open = await this.#openStored(key, hex, record);
      if (open) result.push({ key, record: open });
    }
    return result;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#tier.clear();
    this.#missing.clear();
    await this.backing.close();
  }
}
