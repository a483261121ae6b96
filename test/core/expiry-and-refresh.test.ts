import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, cookieHeaderFrom, HOUR, MINUTE, rejectsWithCode } from '../helpers/manager.ts';

describe('idle expiry, absolute lifetime and refresh', () => {
  it('expires a session after sessionLifetime without activity', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR });
    const ctx = context();
    const session = await manager.create(ctx);
    assert.equal(session.expiresAt.getTime(), clock.now + HOUR);
    clock.advance(HOUR - 1);
    assert.equal(await manager.isValid(session.id), true);
    clock.advance(1);
    assert.equal(await manager.isValid(session.id), false);
    assert.equal(await manager.isExpired(session.id), true);
    await rejectsWithCode(manager.load(ctx, session.id), 'ERR_SESSION_EXPIRED');
    await rejectsWithCode(manager.get(session.id, 'x'), 'ERR_SESSION_EXPIRED');
    await rejectsWithCode(manager.refresh(ctx, session.id), 'ERR_SESSION_EXPIRED');
    await manager.close();
  });

  it('refresh extends the idle expiry, re-issues the cookie, and the new cookie outlives the old one', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: MINUTE });
    const ctx = context();
    const session = await manager.create(ctx);
    await manager.setCookie(ctx, session);
    const first = cookieHeaderFrom(ctx);
    clock.advance(30 * MINUTE);
    const refreshCtx = context();
    await manager.refresh(refreshCtx, session.id);
    assert.equal(refreshCtx.setCookies.length, 1);
    assert.match(refreshCtx.setCookies[0]!, /Max-Age=3600;/);
    clock.advance(45 * MINUTE); // 75 min after creation: the first cookie's token has expired, the session has not
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: first })), 'ERR_SESSION_INVALID_COOKIE');
    const loaded = await manager.getSessionFromCookie(context({ cookieHeader: cookieHeaderFrom(refreshCtx) }));
    assert.equal(loaded.id, session.id);
    assert.equal(loaded.expiresAt.getTime(), session.createdAt.getTime() + 90 * MINUTE);
    await manager.close();
  });

  it('skips the refresh write and the cookie while the last extension is younger than touchThreshold', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 5 * MINUTE });
    const ctx = context();
    const session = await manager.create(ctx);
    clock.advance(5 * MINUTE - 1);
    await manager.refresh(ctx, session.id);
    assert.equal(ctx.setCookies.length, 0);
    assert.equal((await manager.load(ctx, session.id)).expiresAt.getTime(), session.expiresAt.getTime());
    clock.advance(1);
    await manager.refresh(ctx, session.id);
    assert.equal(ctx.setCookies.length, 1);
    assert.equal((await manager.load(ctx, session.id)).expiresAt.getTime(), clock.now + HOUR);
    await manager.close();
  });

  it('never extends a session past its absolute lifetime', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, absoluteLifetime: 2 * HOUR, touchThreshold: 0 });
    const ctx = context();
    const session = await manager.create(ctx);
    const hardEnd = session.createdAt.getTime() + 2 * HOUR;
    for (let i = 0; i < 5; i++) {
      clock.advance(20 * MINUTE); // 100 minutes in: idle expiry would be 160 min, the cap is 120
      await manager.refresh(ctx, session.id);
    }
    assert.equal((await manager.load(ctx, session.id)).expiresAt.getTime(), hardEnd);
    await manager.set(session.id, 'active', true);
    assert.equal((await manager.load(ctx, session.id)).expiresAt.getTime(), hardEnd, 'writes do not pass the cap either');
    clock.now = hardEnd;
    await rejectsWithCode(manager.load(ctx, session.id), 'ERR_SESSION_EXPIRED');
    await manager.close();
  });

  it('treats save as activity: it updates updatedAt and extends the idle expiry', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR });
    const ctx = context();
    const session = await manager.create(ctx);
    clock.advance(40 * MINUTE);
    session.data.step = 2;
    await manager.save(ctx, session);
    assert.equal(session.updatedAt.getTime(), clock.now);
    assert.equal(session.expiresAt.getTime(), clock.now + HOUR);
    clock.advance(40 * MINUTE);
    assert.equal(await manager.isValid(session.id), true);
    await manager.close();
  });

  it('refuses to save a session past its lifetime that cleanup has not removed yet (no revival)', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR });
    const ctx = context();
    const session = await manager.create(ctx);
    clock.advance(HOUR);
    session.data.late = true;
    await rejectsWithCode(manager.save(ctx, session), 'ERR_SESSION_EXPIRED');
    assert.equal(await manager.isValid(session.id), false);
    await manager.close();
  });

  it('saves an object whose own expiry passed when another request extended the session', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: 0 });
    const ctx = context();
    const session = await manager.create(ctx);
    clock.advance(HOUR / 2);
    await manager.refresh(ctx, session.id);
    clock.advance(HOUR / 2); // past the object's expiresAt, not the stored one
    session.data.ok = true;
    await manager.save(ctx, session);
    assert.equal(await manager.get(session.id, 'ok'), true);
    await manager.close();
  });

  it('refresh, isValid and destroy accept the Session object itself', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR, touchThreshold: MINUTE });
    const ctx = context();
    const session = await manager.create(ctx);
    await manager.refresh(ctx, session);
    assert.equal(ctx.setCookies.length, 0, 'debounced');
    clock.advance(MINUTE);
    await manager.refresh(ctx, session);
    assert.equal(ctx.setCookies.length, 1);
    assert.equal(session.expiresAt.getTime(), clock.now + HOUR);
    assert.equal((await manager.load(ctx, session.id)).expiresAt.getTime(), clock.now + HOUR);
    assert.equal(await manager.isValid(session), true);
    await manager.destroy(ctx, session);
    assert.equal(await manager.isValid(session), false);
    assert.equal(await manager.isExpired(session), true);
    clock.advance(MINUTE);
    await rejectsWithCode(manager.refresh(ctx, session), 'ERR_SESSION_NOT_FOUND');
    await manager.close();
  });

  it('reports unknown and malformed ids as not found, never touching the store with them', async () => {
    const { manager } = await cacheManager();
    for (const id of ['', 'short', 'A'.repeat(43), '../'.repeat(15) + 'xx', 'A'.repeat(42) + 'B', '\u0000'.repeat(43)]) {
      await rejectsWithCode(manager.load(context(), id), 'ERR_SESSION_NOT_FOUND');
      await rejectsWithCode(manager.refresh(context(), id), 'ERR_SESSION_NOT_FOUND');
      assert.equal(await manager.isValid(id), false);
      assert.equal(await manager.isExpired(id), true);
    }
    await manager.close();
  });
});
