/**
 * Builds managers with an injected clock, and request contexts that record Set-Cookie.
 *
 * `cacheManager()` builds the manager the core tests run on: the `cache`
 * store with inline crypto, unless the environment names another store and
 * crypto mode (scripts/run-tests.mjs runs the core suites once per
 * combination, so every tamper, merge, destroy, rotation and concurrency
 * test runs on every store and in every crypto mode):
 *   ROCKSTAR_TEST_STORE   cache | filesystem | database (MYSQL_URL)
 *   ROCKSTAR_TEST_CRYPTO  inline | pool | auto
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createSessionManager, type CryptoMode, type SessionConfig, type SessionContext, type SessionManager, type StorageType } from '../../src/index.ts';

export const T0 = 1_800_000_000_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export class FakeClock {
  now = T0;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export function testKey(): Buffer {
  return randomBytes(32);
}

export interface TestManager {
  readonly manager: SessionManager;
  readonly clock: FakeClock;
  readonly key: Buffer;
}

/** The store and crypto mode the core suites run on in this process (see above). */
export const TEST_STORE = (process.env.ROCKSTAR_TEST_STORE ?? 'cache') as StorageType;
export const TEST_CRYPTO = (process.env.ROCKSTAR_TEST_CRYPTO ?? 'inline') as CryptoMode;

let tables = 0;

/**
 * Every manager made here is closed when its test file ends, so a test that
 * forgets to close one cannot keep the file's process alive (a database
 * pool, a worker pool) or leave its directory or table behind.
 */
const open = new Set<SessionManager>();
after(async () => {
  await Promise.allSettled([...open].map((manager) => manager.close()));
});

/** The store options of TEST_STORE, and how to remove what they create once the manager is closed. */
function storeOptions(): { config: Partial<SessionConfig>; cleanup(): Promise<void> } {
  switch (TEST_STORE) {
    case 'filesystem': {
      const dir = mkdtempSync(join(tmpdir(), 'rockstar-core-'));
      return { config: { storageType: 'filesystem', filesystemPath: dir, filesystem: { fsync: false } }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    }
    case 'database': {
      const uri = process.env.MYSQL_URL;
      if (!uri) throw new Error('ROCKSTAR_TEST_STORE=database needs MYSQL_URL');
      const table = `core_${process.pid}_${++tables}_${randomBytes(3).toString('hex')}`;
      return {
        config: { storageType: 'database', database: { uri, table, poolSize: 4 } },
        cleanup: async () => {
          const { dropTable } = await import('./mysql.ts');
          await dropTable(table, uri);
        },
      };
    }
    default:
      return { config: { storageType: 'cache' }, cleanup: async () => {} };
  }
}

/** A manager on TEST_STORE (the `cache` store by default) with an injected clock; closing it removes what its store created. */
export async function cacheManager(overrides: Partial<SessionConfig> = {}): Promise<TestManager> {
  const clock = new FakeClock();
  const key = (overrides.encryptionKey as Buffer | undefined) ?? testKey();
  const store = storeOptions();
  const manager = await createSessionManager({
    ...store.config,
    encryptionKey: key,
    now: clock.read,
    cleanupInterval: 0,
    crypto: { mode: TEST_CRYPTO },
    ...overrides,
  });
  const close = manager.close.bind(manager);
  let cleaned: Promise<void> | undefined;
  manager.close = () => (cleaned ??= close().finally(() => store.cleanup()));
  open.add(manager);
  return { manager, clock, key };
}

export interface RecordingContext extends SessionContext {
  readonly setCookies: string[];
}

export function context(fields: Partial<SessionContext> = {}): RecordingContext {
  const setCookies: string[] = [];
  return { ...fields, setCookies, appendSetCookie: (value: string) => void setCookies.push(value) };
}

/** "name=value" of the last Set-Cookie on ctx: what a browser would send back. */
export function cookieHeaderFrom(ctx: RecordingContext): string {
  const last = ctx.setCookies.at(-1);
  if (!last) throw new Error('no Set-Cookie was issued');
  return last.split(';')[0]!;
}

export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if ((error as { code?: string }).code === code) return;
    throw new Error(`expected ${code}, got ${(error as { code?: string }).code ?? error}`, { cause: error });
  }
  throw new Error(`expected rejection with ${code}, but it resolved`);
}
