/**
 * Our managers on each backend, or the reason one cannot be built in this
 * tree (a backend whose issue has not landed reports "not run", never a fake).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionConfig, SessionManager } from '../../src/index.ts';
import { benchManager } from './engine.ts';

export type ManagerOutcome = { ok: true; manager: SessionManager; cleanup: () => Promise<void> } | { ok: false; reason: string };

async function attempt(config: Partial<SessionConfig>, cleanup: () => void): Promise<ManagerOutcome> {
  try {
    const manager = await benchManager(config);
    return {
      ok: true,
      manager,
      cleanup: async () => {
        await manager.close();
        cleanup();
      },
    };
  } catch (error) {
    cleanup();
    const e = error as { code?: string; message: string };
    return { ok: false, reason: `createSessionManager(${JSON.stringify(config.storageType)}) failed: ${e.code ?? ''} ${e.message}`.trim() };
  }
}

export function cacheManager(extra: Partial<SessionConfig> = {}): Promise<ManagerOutcome> {
  return attempt({ storageType: 'cache', ...extra }, () => {});
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rockstar-bench-${prefix}-`));
}

/** The filesystem store with its defaults (fsync on unless told otherwise). */
export function filesystemManager(dir: string, extra: Partial<SessionConfig> = {}): Promise<ManagerOutcome> {
  return attempt({ storageType: 'filesystem', filesystemPath: dir, ...extra }, () => rmSync(dir, { recursive: true, force: true }));
}

export function databaseManager(uri: string, table: string, extra: Partial<SessionConfig> = {}): Promise<ManagerOutcome> {
  return attempt({ storageType: 'database', database: { uri, table }, ...extra }, () => {});
}
