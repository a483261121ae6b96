/**
 * A sibling subdomain (or an injection over plain http) can plant cookies
 * of our name. The browser sends them beside the real one, most specific
 * path first, so each candidate is tried in order and a dead or garbage
 * one cannot lock its user out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, cookieHeaderFrom, HOUR, rejectsWithCode } from '../helpers/manager.ts';

async function setUp() {
  const t = await cacheManager({ sessionLifetime: HOUR });
  const issue = async () => {
    const ctx = context();
    const session = await t.manager.regenerate(ctx, await t.manager.create(ctx));
    return { session, cookie: cookieHeaderFrom(ctx) };
  };
  return { ...t, issue };
}

describe('planted cookies', () => {
  it('skips a planted token whose session was destroyed, and finds the real one after it', async () => {
    const { manager, issue } = await setUp();
    const planted = await issue();
    await manager.destroy(null, planted.session.id); // the attacker logged out of their own session
    const real = await issue();
    const header = `${planted.cookie}; ${real.cookie}`;
    assert.equal((await manager.getSessionFromCookie(context({ cookieHeader: header }))).id, real.session.id);
    await manager.close();
  });

  it('skips a planted token whose session expired, and garbage values, in any order', async () => {
    const { manager, clock, issue } = await setUp();
    const planted = await issue();
    clock.advance(HOUR / 2);
    const real = await issue();
    clock.advance(HOUR / 2 + 1); // the planted session is past its idle lifetime, the real one is not
    const garbage = 'rockstar_session=not-a-token';
    for (const header of [`${planted.cookie}; ${garbage}; ${real.cookie}`, `${garbage}; ${real.cookie}; ${planted.cookie}`]) {
      assert.equal((await manager.getSessionFromCookie(context({ cookieHeader: header }))).id, real.session.id);
    }
    await manager.close();
  });

  it('tries at least 16 same-named values, and no more than its bound', async () => {
    const { manager, issue } = await setUp();
    const real = await issue();
    const junk = (n: number) => Array.from({ length: n }, (_, i) => `rockstar_session=junk${i}`).join('; ');
    assert.equal((await manager.getSessionFromCookie(context({ cookieHeader: `${junk(15)}; ${real.cookie}` }))).id, real.session.id);
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${junk(16)}; ${real.cookie}` })), 'ERR_SESSION_INVALID_COOKIE');
    await manager.close();
  });

  it('still says not found when every sound token names a dead session', async () => {
    const { manager, issue } = await setUp();
    const gone = await issue();
    await manager.destroy(null, gone.session.id);
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${gone.cookie}; rockstar_session=junk` })), 'ERR_SESSION_NOT_FOUND');
    await manager.close();
  });
});
