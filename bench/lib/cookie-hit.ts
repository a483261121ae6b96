/**
 * The hot read a request makes: from the Cookie header to the session's
 * data, for a session that is in memory. Ours is getSessionFromCookie (the
 * token, the verified-token map when the engine has one, the cache); the
 * peer is what express-session does before a route sees req.session:
 * parse the Cookie header, check its HMAC signature (cookie-signature),
 * then get the session from memorystore (JSON.parse of its string). Both
 * use their own libraries' code, the peer's exactly the versions
 * express-session depends on.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SessionManager } from '../../src/index.ts';
import { benchContext, cookieHeaderFrom, loginSessionData, type BenchContext } from './engine.ts';
import { RoundRobin } from './id-pool.ts';
import type { ThroughputContender } from './measure.ts';
import { expressSessionObject, type PromisedStore } from './peer-stores.ts';

const fromExpressSession = createRequire(createRequire(import.meta.url).resolve('express-session'));
const cookie = fromExpressSession('cookie') as { parse(header: string): Record<string, string | undefined>; serialize(name: string, value: string): string };
const signature = fromExpressSession('cookie-signature') as { sign(value: string, secret: string): string; unsign(value: string, secret: string): string | false };

/** A cookie-carrying request context per session, as the adapter builds one per request. */
export async function ourCookieHit(id: string, manager: SessionManager, sessions: number, concurrency: number): Promise<ThroughputContender> {
  const contexts: BenchContext[] = [];
  for (let i = 0; i < sessions; i++) {
    const ctx = benchContext();
    const session = await manager.create(ctx);
    session.data = loginSessionData(`user-${i}`);
    await manager.save(ctx, session);
    // Since the cookie follows every write, save() issued it; older engines needed setCookie.
    if (ctx.lastSetCookie === undefined) await manager.setCookie(ctx, session);
    contexts.push(benchContext(cookieHeaderFrom(ctx.lastSetCookie!)));
  }
  const check = await manager.getSessionFromCookie(contexts[0]!);
  if (check.data.username !== 'user-0') throw new Error(`${id}: correctness check failed: getSessionFromCookie answered ${JSON.stringify(check.data)}`);
  const next = new RoundRobin(contexts);
  return { id, kind: 'async', concurrency, op: () => manager.getSessionFromCookie(next.next()) };
}

export async function peerCookieHit(id: string, store: PromisedStore, sessions: number, concurrency: number): Promise<ThroughputContender> {
  const secret = randomBytes(32).toString('base64');
  const headers: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const sid = randomBytes(24).toString('base64url');
    await store.set(sid, expressSessionObject(`user-${i}`));
    headers.push(cookie.serialize('connect.sid', `s:${signature.sign(sid, secret)}`));
  }
  const read = async (header: string): Promise<Record<string, unknown> | null> => {
    const raw = cookie.parse(header)['connect.sid'];
    if (!raw || !raw.startsWith('s:')) return null;
    const sid = signature.unsign(raw.slice(2), secret);
    return sid === false ? null : store.get(sid);
  };
  const check = await read(headers[0]!);
  if (check?.username !== 'user-0') throw new Error(`${id}: correctness check failed: the peer read answered ${JSON.stringify(check)}`);
  const next = new RoundRobin(headers);
  return { id, kind: 'async', concurrency, op: () => read(next.next()) };
}
