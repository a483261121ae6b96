/**
 * Builds the store a configuration asks for, as the manager sees it: a
 * RecordStore of open records. The `cache` backend is the in-process tier
 * alone; the persistent backends (filesystem, MySQL) sit behind the same
 * tier, with records sealed at the boundary (tier/sealed-store.ts).
 */
import type { ResolvedConfig } from '../config.ts';
import type { Sealer } from '../crypto/sealer.ts';
import { SessionConfigError } from '../errors.ts';
import { MemoryRecordStore } from '../tier/memory-store.ts';
import type { RecordStore } from '../tier/record-store.ts';
import { SealedRecordStore } from '../tier/sealed-store.ts';
import type { SessionStore } from './store.ts';

/** The persistent store of sealed records a configuration names (loaded on demand: users of one backend never load another's driver). */
export async function createPersistentStore(config: ResolvedConfig): Promise<SessionStore> {
  switch (config.storageType) {
    case 'database': {
      const { MysqlStore } = await import('./mysql.ts');
      if (!config.database) throw new SessionConfigError("database must be given when storageType is 'database'");
      return new MysqlStore({ ...config.database, maxDataBytes: config.maxDataBytes });
    }
    case 'filesystem': {
      const { FilesystemStore } = await import('./fs.ts');
      const store = new FilesystemStore({ ...config.filesystem, path: config.filesystemPath, onError: config.onError });
      return store;
    }
    case 'cache':
      throw new SessionConfigError("storageType 'cache' keeps sessions in process memory only: it has no persistent store");
    default: {
      // validateConfig() admits only the three types above.
      const unknown: never = config.storageType;
      throw new SessionConfigError(`storageType must be 'database', 'cache' or 'filesystem'; received '${String(unknown)}'`);
    }
  }
}

export async function createRecordStore(config: ResolvedConfig, sealer: Sealer): Promise<RecordStore> {
  if (config.storageType === 'cache') return new MemoryRecordStore({ maxBytes: config.cache.maxBytes });
  const backing = await createPersistentStore(config);
  return new SealedRecordStore(backing, sealer, { maxBytes: config.cache.maxBytes, staleMs: config.cache.staleMs, now: config.now, onError: config.onError });
}
