/**
 * "Refresh on activity": the auth middleware extends the session and
 * re-issues the cookie once touchThreshold has passed, so an active user
 * outlives the idle lifetime and an idle one does not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock, MINUTE } from '../helpers/manager.ts';
import { getWithCookie, login, postJson, SERVERS, sessionCookie, startTestApp, type TestApp } from './app-fixture.ts';

const LIFETIME = 60 * MINUTE;
const TOUCH_THRESHOLD = 5 * MINUTE;

for (const server of SERVERS) {
  describe(`sliding expiry through the auth middleware on ${server}`, () => {
    let app: TestApp;
    const clock = new FakeClock();

    before(async () => {
      app = await startTestApp({ server, session: { now: clock.read, sessionLifetime: LIFETIME, touchThreshold: TOUCH_THRESHOLD } });
    });
    after(() => app.close());

    it('sends no new cookie while the last extension is fresh', async () => {
      const cookie = await login(app);
      clock.advance(TOUCH_THRESHOLD - MINUTE);
      const response = await getWithCookie(app.url('/profile'), cookie);
      assert.equal(response.status, 200);
      assert.equal(sessionCookie(response), undefined);
    });

    it('keeps an active session past its idle lifetime and lets an idle one die', async () => {
      const active = await login(app, 'active');
      const idle = await login(app, 'idle');
      clock.advance(40 * MINUTE);
      const response = await getWithCookie(app.url('/profile'), active);
      assert.equal(response.status, 200);
      const renewed = sessionCookie(response);
      assert.ok(renewed && renewed !== active, 'activity past the threshold re-issues the cookie');
      assert.match(response.headers.getSetCookie()[0] ?? '', /Max-Age=3600/);
      clock.advance(40 * MINUTE); // 80 minutes after login: past the first lifetime
      assert.equal((await getWithCookie(app.url('/profile'), renewed)).status, 200, 'the active user is still in');
      assert.equal((await getWithCookie(app.url('/profile'), idle)).status, 401, 'the idle user is out');
    });

    it('keeps a user whose only activity is cart writes every 30 s logged in for twice the lifetime', async () => {
      let cookie = await login(app, 'writer');
      let writes = 0;
      for (let elapsed = 0; elapsed < 2 * LIFETIME; elapsed += 30_000) {
        clock.advance(30_000);
        const response = await postJson(app.url('/cart/items'), { productId: `p${writes}` }, cookie);
        assert.equal(response.status, 200, `write ${writes + 1}, ${(elapsed + 30_000) / MINUTE} min after login`);
        await response.arrayBuffer();
        writes++;
        cookie = sessionCookie(response) ?? cookie;
      }
      const cart = await getWithCookie(app.url('/cart'), cookie);
      assert.equal(((await cart.json()) as { items: unknown[] }).items.length, writes);
    });
  });
}
