/** Our engine, built the way an application builds it, for every case family. */
import { randomBytes } from 'node:crypto';
import { createSessionManager, type SessionConfig, type SessionContext, type SessionManager } from '../../src/index.ts';

/** One fixed key per run: the bench measures speed, not key handling. */
export const BENCH_KEY = randomBytes(32);

export function benchManager(overrides: Partial<SessionConfig> = {}): Promise<SessionManager> {
  const base: Partial<SessionConfig> = {
    storageType: 'cache',
    encryptionKey: BENCH_KEY,
    cookieSecure: false,
    crypto: { mode: 'inline' },
    cache: { maxBytes: 1024 * 1024 * 1024 },
    // The cleanup timer would only add noise; cleanup has its own case.
    cleanupInterval: 0,
  };
  return createSessionManager(mergeConfig(base, overrides) as SessionConfig);
}

/** `overrides` over `base`, merging option groups one level deep, so `{ cache: { staleMs } }` keeps the bench's cache.maxBytes. */
export function mergeConfig(base: Partial<SessionConfig>, overrides: Partial<SessionConfig>): Partial<SessionConfig> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    const isGroup = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
    merged[key] = isGroup(current) && isGroup(value) ? { ...current, ...value } : value;
  }
  return merged as Partial<SessionConfig>;
}

/** A request context as an adapter builds it; the last Set-Cookie is kept so a later request can send it back. */
export interface BenchContext extends SessionContext {
  lastSetCookie: string | undefined;
}

export function benchContext(cookieHeader?: string): BenchContext {
  const ctx: BenchContext = {
    cookieHeader,
    ipAddress: '127.0.0.1',
    userAgent: 'rockstar-session-bench',
    lastSetCookie: undefined,
    appendSetCookie(value: string) {
      ctx.lastSetCookie = value;
    },
  };
  return ctx;
}

/** The Cookie request header a browser would send back for a Set-Cookie value. */
export function cookieHeaderFrom(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf(';'));
}

/** What the login route of every app in this bench stores: the seed example's session. */
export function loginSessionData(username: string): Record<string, unknown> {
  return { user_id: `u-${username}`, username, roles: ['user', 'editor'], login_time: Date.now() };
}
