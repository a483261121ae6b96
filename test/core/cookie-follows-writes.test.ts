/**
 * Every write made for a request re-issues the cookie, and the cookie
 * carries the version written; refresh slides from the cookie's own expiry.
 * So a user whose only activity is writes is never logged out before the
 * idle gap or the absolute lifetime.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyRing, openBytes } from '../../src/crypto/aead.ts';
import type { Session, SessionManager } from '../../src/index.ts';
import { decodeTokenPayload, tokenBytesFromCookieValue } from '../../src/token.ts';
import { cacheManager, context, cookieHeaderFrom, HOUR, MINUTE, rejectsWithCode, type RecordingContext } from '../helpers/manager.ts';

/** What the cookie on ctx says: its sealed expiry and version. */
function claims(ctx: RecordingContext, key: Buffer, cookieName = 'rockstar_session'): { expiresAt: number; version: number } {
  const value = cookieHeaderFrom(ctx).split('=')[1]!;
  const opened = openBytes(new KeyRing(key), 'cookie', tokenBytesFromCookieValue(value)!, Buffer.from(`rockstar-session cookie ${cookieName}`));
  const payload = decodeTokenPayload(opened!.plaintext)!;
  return { expiresAt: payload.expiresAt, version: payload.version };
}

async function loggedIn(manager: SessionManager): Promise<{ session: Session; cookie: string }> {
  const ctx = context();
  const created = await manager.create(ctx);
  const session = await manager.regenerate(ctx, created);
  return { session, cookie: cookieHeaderFrom(ctx) };
}

describe('the cookie follows every write', () => {
  it('keeps a user whose activity is update() every 30 s logged in for twice the lifetime', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: 10 * MINUTE, absoluteLifetime: 24 * HOUR, touchThreshold: MINUTE });
    let { session, cookie } = await loggedIn(manager);
    for (let elapsed = 0; elapsed < 20 * MINUTE; elapsed += 30_000) {
      clock.advance(30_000);
      const ctx = context({ cookieHeader: cookie });
      const current = await manager.getSessionFromCookie(ctx); // throws once the client's cookie has run out
      assert.equal(current.id, session.id);
      await manager.update(current.id, 'clicks', (n) => ((n as number | undefined) ?? 0) + 1, ctx);
      assert.equal(ctx.setCookies.length, 1, 'the write re-issued the cookie');
      cookie = cookieHeaderFrom(ctx);
    }
    assert.equal(await manager.get(session.id, 'clicks'), 40);
    await manager.close();
  });

  it('keeps a user whose activity is save() every 30 s logged in for twice the lifetime', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: 10 * MINUTE, absoluteLifetime: 24 * HOUR, touchThreshold: MINUTE });
    let { cookie } = await loggedIn(manager);
    for (let elapsed = 0; elapsed < 20 * MINUTE; elapsed += 30_000) {
      clock.advance(30_000);
      const ctx = context({ cookieHeader: cookie });
      const current = await manager.getSessionFromCookie(ctx);
      current.data.step = elapsed;
      await manager.save(ctx, current);
      cookie = cookieHeaderFrom(ctx);
    }
    await manager.close();
  });

  it('still logs the user out at the absolute lifetime, writes or not', async () => {
    const { manager, clock, key } = await cacheManager({ sessionLifetime: 10 * MINUTE, absoluteLifetime: 30 * MINUTE, touchThreshold: MINUTE });
    const { session } = await loggedIn(manager);
    let cookie = '';
    const hardEnd = session.createdAt.getTime() + 30 * MINUTE;
    while (clock.now + 30_000 < hardEnd) {
      clock.advance(30_000);
      const ctx = context({ cookieHeader: cookie });
      await manager.set(session.id, 'at', clock.now, ctx);
      cookie = cookieHeaderFrom(ctx);
      assert.ok(claims(ctx, key).expiresAt <= hardEnd, 'no cookie outlives the absolute lifetime');
    }
    clock.now = hardEnd;
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: cookie })), 'ERR_SESSION_INVALID_COOKIE');
    await manager.close();
  });

  it('seals the version just written into the cookie', async () => {
    const { manager, key } = await cacheManager();
    const { session } = await loggedIn(manager);
    const ctx = context();
    await manager.set(session.id, 'a', 1, ctx);
    assert.equal(claims(ctx, key).version, 2);
    const loaded = await manager.load(context(), session.id);
    loaded.data.b = 2;
    const saveCtx = context();
    await manager.save(saveCtx, loaded);
    assert.equal(claims(saveCtx, key).version, 3);
    await manager.close();
  });

  it('sets the cookie on save of a session just created (create + save is a login)', async () => {
    const { manager, key, clock } = await cacheManager({ sessionLifetime: HOUR });
    const ctx = context();
    const session = await manager.create(ctx);
    assert.equal(ctx.setCookies.length, 0, 'create alone issues no cookie (the seed sets it with setCookie or save)');
    session.data.user_id = 'u1';
    await manager.save(ctx, session);
    assert.equal(ctx.setCookies.length, 1);
    assert.deepEqual(claims(ctx, key), { expiresAt: clock.now + HOUR, version: 2 });
    const back = await manager.getSessionFromCookie(context({ cookieHeader: cookieHeaderFrom(ctx) }));
    assert.equal(back.data.user_id, 'u1');
    await manager.close();
  });

  it('issues nothing for a write without a ctx, and refresh then re-issues from the cookie, not the record', async () => {
    const { manager, clock, key } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const { session, cookie } = await loggedIn(manager);
    clock.advance(10 * MINUTE);
    await manager.set(session.id, 'background', true); // extends the record, not the client's cookie
    const ctx = context({ cookieHeader: cookie });
    const current = await manager.getSessionFromCookie(ctx);
    assert.equal(current.expiresAt.getTime(), clock.now + HOUR, 'the record was extended by the write');
    await manager.refresh(ctx, current);
    assert.equal(ctx.setCookies.length, 1, 'the cookie is 10 minutes old: re-issued although the record is fresh');
    assert.equal(claims(ctx, key).expiresAt, clock.now + HOUR);
    await manager.close();
  });

  it('refresh writes nothing and issues nothing inside touchThreshold of the last re-issue', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const { cookie } = await loggedIn(manager);
    const touches = countTouches(manager);
    clock.advance(5 * MINUTE - 1);
    const ctx = context({ cookieHeader: cookie });
    await manager.refresh(ctx, await manager.getSessionFromCookie(ctx));
    assert.equal(ctx.setCookies.length, 0);
    assert.equal(touches(), 0);
    clock.advance(1);
    const later = context({ cookieHeader: cookie });
    await manager.refresh(later, await manager.getSessionFromCookie(later));
    assert.equal(later.setCookies.length, 1);
    assert.equal(touches(), 1);
    // The re-issued cookie is fresh again: the next refresh does nothing.
    const next = context({ cookieHeader: cookieHeaderFrom(later) });
    await manager.refresh(next, await manager.getSessionFromCookie(next));
    assert.equal(next.setCookies.length, 0);
    assert.equal(touches(), 1);
    await manager.close();
  });

  it('refuses a ctx without appendSetCookie with ERR_SESSION_CONTEXT before writing anything', async () => {
    const { manager } = await cacheManager();
    const { session } = await loggedIn(manager);
    const broken = { cookieHeader: '' } as never;
    await rejectsWithCode(manager.set(session.id, 'a', 1, broken), 'ERR_SESSION_CONTEXT');
    await rejectsWithCode(manager.update(session.id, 'a', () => 1, broken), 'ERR_SESSION_CONTEXT');
    const loaded = await manager.load(context(), session.id);
    loaded.data.b = 2;
    await rejectsWithCode(manager.save(broken, loaded), 'ERR_SESSION_CONTEXT');
    await rejectsWithCode(manager.setCookie(broken, loaded), 'ERR_SESSION_CONTEXT');
    await rejectsWithCode(manager.clearCookie(broken), 'ERR_SESSION_CONTEXT');
    const after = await manager.load(context(), session.id);
    assert.deepEqual(after.data, {}, 'nothing was written');
    await manager.close();
  });
});

describe('refreshDue', () => {
  it('says whether refresh would do anything, without doing it', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const { cookie } = await loggedIn(manager);
    const ctx = context({ cookieHeader: cookie });
    const session = await manager.getSessionFromCookie(ctx);
    assert.equal(manager.refreshDue(session), false);
    clock.advance(5 * MINUTE);
    assert.equal(manager.refreshDue(session), true);
    await manager.refresh(ctx, session);
    assert.equal(ctx.setCookies.length, 1);
    assert.equal(manager.refreshDue(session), false, 'the cookie just issued is fresh');
    await manager.close();
  });
});

describe('refresh by id', () => {
  it('lets a refresh that was not due leave the next one, once due, its cookie', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const { session, cookie } = await loggedIn(manager);
    clock.advance(4 * MINUTE);
    const early = context({ cookieHeader: cookie });
    await manager.refresh(early, session.id);
    assert.equal(early.setCookies.length, 0, 'not due yet: nothing issued');
    clock.advance(2 * MINUTE);
    const due = context({ cookieHeader: cookie });
    await manager.refresh(due, session.id);
    assert.equal(due.setCookies.length, 1, 'due now: a fresh cookie');
    await manager.close();
  });
});

describe('a client that keeps presenting an old cookie', () => {
  it('gets a fresh cookie at most once per touchThreshold, not on every request', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const { cookie } = await loggedIn(manager);
    const touches = countTouches(manager);
    clock.advance(10 * MINUTE);
    const issued: number[] = [];
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      const ctx = context({ cookieHeader: cookie }); // it never stores what it is sent
      const session = await manager.getSessionFromCookie(ctx);
      if (manager.refreshDue(session)) await manager.refresh(ctx, session);
      issued.push(ctx.setCookies.length);
    }
    assert.deepEqual(issued, [1, ...new Array(19).fill(0)], 'one fresh cookie, then none while it is young');
    assert.equal(touches(), 1, 'one touch of the store');
    clock.advance(5 * MINUTE);
    const again = context({ cookieHeader: cookie });
    await manager.refresh(again, await manager.getSessionFromCookie(again));
    assert.equal(again.setCookies.length, 1, 'touchThreshold later it gets another');
    await manager.close();
  });
});

/** Counts the store's touches from now on. */
function countTouches(manager: SessionManager): () => number {
  const store = manager.store;
  let touches = 0;
  const touch = store.touch.bind(store);
  store.touch = (...args) => {
    touches++;
    return touch(...args);
  };
  return () => touches;
}

describe('refresh near the absolute lifetime and under concurrency', () => {
  // The cookie holds its expiry in whole seconds, the record its absolute lifetime in ms: a login at .500 must count as capped too.
  for (const offsetMs of [0, 500]) {
    it(`is not due for a cookie that already runs to the absolute lifetime (login ${offsetMs} ms past a whole second)`, async () => {
      const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, absoluteLifetime: 2 * HOUR, touchThreshold: MINUTE });
      clock.advance(offsetMs);
      const { session } = await loggedIn(manager);
      clock.advance(50 * MINUTE);
      await manager.set(session.id, 'step', 1, context());
      clock.advance(40 * MINUTE);
      const ctx = context();
      await manager.set(session.id, 'late', true, ctx); // 90 min in: its cookie now runs to the cap (created + 2 h)
      const cookieHeader = cookieHeaderFrom(ctx);
      const current = await manager.getSessionFromCookie(context({ cookieHeader }));
      clock.advance(10 * MINUTE);
      assert.equal(manager.refreshDue(current), false, 'nothing can move: the cache hit stays a cache hit');
      const again = context({ cookieHeader });
      const reread = await manager.getSessionFromCookie(again); // a persistent store's copy is past staleMs by now: read through
      assert.ok(manager.peekSessionFromCookie(context({ cookieHeader }), { refresh: true }), 'then answered from memory, with nothing for refresh to do');
      await manager.refresh(again, reread);
      assert.equal(again.setCookies.length, 0, 'no new cookie: it could not run any longer');
      await manager.close();
    });
  }

  it('touches once and issues one cookie for parallel requests carrying the same due cookie', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const { cookie } = await loggedIn(manager);
    const touches = countTouches(manager);
    clock.advance(10 * MINUTE);
    const contexts = Array.from({ length: 8 }, () => context({ cookieHeader: cookie }));
    const sessions = await Promise.all(contexts.map((ctx) => manager.getSessionFromCookie(ctx)));
    await Promise.all(sessions.map((session, i) => manager.refresh(contexts[i]!, session)));
    assert.equal(touches(), 1);
    assert.equal(contexts.reduce((n, ctx) => n + ctx.setCookies.length, 0), 1);
    await manager.close();
  });
});
