/**
 * A persistent store stand-in for tests: sealed records in a Map, shared by
 * several managers the way processes or nodes share a filesystem store or a
 * database. Each manager gets its own in-process tier in front of it
 * (SealedRecordStore), so staleness, read-through and compare-and-swap
 * between "nodes" behave as they do over the real stores.
 */
import { KeyRing } from '../../src/crypto/aead.ts';
import { InlineSealer } from '../../src/crypto/sealer.ts';
import { validateConfig, type SessionConfig } from '../../src/config.ts';
import { SessionManager } from '../../src/manager.ts';
import type { KeyedRecord, RecordWrite, SessionStore, StoreKey, StoredRecord } from '../../src/stores/store.ts';
import { SealedRecordStore } from '../../src/tier/sealed-store.ts';

export class SharedMemoryStore implements SessionStore {
  readonly name = 'shared-memory';
  readonly records = new Map<StoreKey, StoredRecord>();
  writes = 0;

  async open(): Promise<void> {}

  async find(key: StoreKey): Promise<StoredRecord | null> {
    return this.records.get(key) ?? null;
  }

  async insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    if (this.records.has(key)) return false;
    this.writes++;
    this.records.set(key, { ...write, version: 1 });
    return true;
  }

  async update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    const current = this.records.get(key);
    if (!current || current.version !== expectedVersion) return false;
    this.writes++;
    this.records.set(key, { ...write, version: expectedVersion + 1 });
    return true;
  }

  async touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    const current = this.records.get(key);
    if (!current) return false;
    this.writes++;
    this.records.set(key, { ...current, expiresAt });
    return true;
  }

  async delete(key: StoreKey): Promise<void> {
    this.records.delete(key);
  }

  async deleteExpired(now: number): Promise<number> {
    let removed = 0;
    for (const [key, record] of this.records) {
      if (record.expiresAt <= now) {
        this.records.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    const result: KeyedRecord[] = [];
    for (const [key, record] of this.records) {
      if (record.userTag === userTag) result.push({ key, record });
      if (result.length >= limit) break;
    }
    return result;
  }

  async close(): Promise<void> {}
}

/** A shared store whose next update() waits at a gate (set `gate`; `entered` is called once it waits): to hold a write in flight. */
export class GatedStore extends SharedMemoryStore {
  gate: Promise<void> | undefined;
  entered: (() => void) | undefined;
  override async update(key: StoreKey, version: number, write: RecordWrite): Promise<boolean> {
    if (this.gate) {
      const gate = this.gate;
      this.gate = undefined;
      this.entered?.();
      await gate;
    }
    return super.update(key, version, write);
  }
}

/** A manager ("node") over a shared persistent store, with its own in-process tier (default staleMs 1000, as configured). */
export function nodeOver(backing: SessionStore, config: Partial<SessionConfig> & Pick<SessionConfig, 'encryptionKey'>): SessionManager {
  const resolved = validateConfig({ storageType: 'cache', cleanupInterval: 0, ...config });
  const ring = new KeyRing(resolved.encryptionKey, resolved.previousKeys);
  const sealer = new InlineSealer(ring);
  const store = new SealedRecordStore(backing, sealer, { maxBytes: resolved.cache.maxBytes, staleMs: resolved.cache.staleMs, now: resolved.now, onError: resolved.onError });
  return new SessionManager(resolved, ring, sealer, store);
}
