/** Builds managers on the in-process cache store with an injected clock, and request contexts that record Set-Cookie. */
import { randomBytes } from 'node:crypto';
import { createSessionManager, type SessionConfig, type SessionContext, type SessionManager } from '../../src/index.ts';

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

export async function cacheManager(overrides: Partial<SessionConfig> = {}): Promise<TestManager> {
  const clock = new FakeClock();
  const key = (overrides.encryptionKey as Buffer | undefined) ?? testKey();
  const manager = await createSessionManager({
    storageType: 'cache',
    encryptionKey: key,
    now: clock.read,
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
    ...overrides,
  });
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
