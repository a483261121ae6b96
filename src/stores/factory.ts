/** Builds the store a configuration asks for. The manager knows stores only through this and the contract. */
import type { ResolvedConfig } from '../config.ts';
import { SessionConfigError } from '../errors.ts';
import { MemoryStore } from './memory.ts';
import type { SessionStore } from './store.ts';

export async function createStore(config: ResolvedConfig): Promise<SessionStore> {
  switch (config.storageType) {
    case 'cache':
      return new MemoryStore({ maxBytes: config.cache.maxBytes, now: config.now });
    case 'database': {
      // Loaded on demand: users of the embedded stores never load mysql2.
      const [{ MysqlStore }, { CachedStore }] = await Promise.all([import('./mysql.ts'), import('./cached.ts')]);
      if (!config.database) throw new SessionConfigError("database must be given when storageType is 'database'");
      return new CachedStore(new MysqlStore(config.database), {
        maxBytes: config.cache.maxBytes,
        staleMs: config.cache.staleMs,
        now: config.now,
      });
    }
    case 'filesystem': {
      const [{ FilesystemStore }, { CachedStore }] = await Promise.all([import('./fs.ts'), import('./cached.ts')]);
      const store = new FilesystemStore({ path: config.filesystemPath, fsync: config.filesystem.fsync, onError: config.onError });
      return new CachedStore(store, { maxBytes: config.cache.maxBytes, staleMs: config.cache.staleMs, now: config.now });
    }
    default: {
      // validateConfig() admits only the three types above.
      const unknown: never = config.storageType;
      throw new SessionConfigError(`storageType must be 'database', 'cache' or 'filesystem'; received '${String(unknown)}'`);
    }
  }
}
