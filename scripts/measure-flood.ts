/**
 * A flood of one-shot logins against the `cache` store (issue 13): do the
 * sessions in use survive? Logs in `--active` users who then make a few
 * requests each, `--idle` users who log in and make no second request,
 * then `--flood` logins from one client that never come back, then every
 * user makes one more request. Prints survivors and the tier's counters.
 *
 *   node --import tsx scripts/measure-flood.ts [--active 1000] [--idle 1000] [--flood 100000] [--max-bytes 8388608]
 */
import { parseArgs } from 'node:util';
import { createSessionManager, type SessionContext } from '../src/index.ts';

const { values } = parseArgs({
  options: { active: { type: 'string', default: '1000' }, idle: { type: 'string', default: '1000' }, flood: { type: 'string', default: '100000' }, 'max-bytes': { type: 'string', default: String(8 * 1024 * 1024) } },
});
const manager = await createSessionManager({ storageType: 'cache', encryptionKey: Buffer.alloc(32, 9), cookieSecure: false, cleanupInterval: 0, cache: { maxBytes: Number(values['max-bytes']) } });

async function login(user: string): Promise<string> {
  const cookies: string[] = [];
  const ctx: SessionContext = { userId: user, ipAddress: '198.51.100.7', userAgent: 'flood', appendSetCookie: (v) => void cookies.push(v) };
  const session = await manager.create(ctx);
  Object.assign(session.data, { user_id: user, username: user, roles: ['user'], login_time: new Date() });
  await manager.regenerate(ctx, session);
  return cookies.at(-1)!.split(';')[0]!;
}

async function stillIn(cookie: string): Promise<boolean> {
  try {
    await manager.getSessionFromCookie({ cookieHeader: cookie, appendSetCookie: () => {} });
    return true;
  } catch {
    return false;
  }
}

const active = await Promise.all(Array.from({ length: Number(values.active) }, (_, i) => login(`active-${i}`)));
for (let round = 0; round < 3; round++) for (const cookie of active) await stillIn(cookie);
const idle = await Promise.all(Array.from({ length: Number(values.idle) }, (_, i) => login(`idle-${i}`)));
const before = manager.cacheStats();
const started = performance.now();
for (let i = 0; i < Number(values.flood); i++) await login(`flood-${i}`);
const floodSeconds = (performance.now() - started) / 1000;
const activeIn = (await Promise.all(active.map(stillIn))).filter(Boolean).length;
const idleIn = (await Promise.all(idle.map(stillIn))).filter(Boolean).length;
const after = manager.cacheStats();
console.log(`cache.maxBytes ${after.maxBytes} B; ${values.flood} one-shot logins in ${floodSeconds.toFixed(1)} s`);
console.log(`sessions in use (logged in, then 3 requests) still in after the flood: ${activeIn} of ${active.length}`);
console.log(`idle sessions (logged in, no second request) still in: ${idleIn} of ${idle.length}`);
console.log(`tier: ${after.entries} entries, ${after.bytes} B; hits ${after.hits - before.hits}, misses ${after.misses - before.misses}, evictions ${after.evictions - before.evictions} during and after the flood`);
await manager.close();
