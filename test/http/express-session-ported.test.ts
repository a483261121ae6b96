/**
 * express-session's own test suite (test/session.js), its cases that apply
 * here, rewritten as behaviour tests of ours on Express 4 and 5. Each test
 * names the express-session case it ports. Differences by design: our
 * `rolling` is on by default but debounced by touchThreshold (express-session
 * re-issues on every request when rolling, never otherwise), `resave` and
 * `saveUninitialized` are always false, and regenerate() keeps the data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express';
import { FakeClock, HOUR, MINUTE } from '../helpers/manager.ts';
import { clearsCookie, cookieOf, EXPRESS_KINDS, get, post, sessionState, startFrameworkApp, type FrameworkApp } from './framework-fixture.ts';

const LIFETIME = HOUR;
const TOUCH = 5 * MINUTE;

/** Express 4 drops a rejected handler's promise: send such failures to the error handler instead. */
function safe(handler: (req: ExpressRequest, res: ExpressResponse) => Promise<void>) {
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction): void => void handler(req, res).catch(next);
}

function expiresOf(response: Response): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('rockstar_session='));
  return header?.match(/Expires=([^;]+)/)?.[1];
}

for (const kind of EXPRESS_KINDS) {
  for (const rolling of [true, false]) {
    describe(`express-session's cases on ${kind} (rolling: ${rolling})`, () => {
      const clock = new FakeClock();
      let app: FrameworkApp;

      before(async () => {
        app = await startFrameworkApp({
          kind,
          session: { now: clock.read, sessionLifetime: LIFETIME, touchThreshold: TOUCH },
          sessionOptions: { rolling },
          routes: {
            express(server) {
              server.get('/count', (req, res) => {
                req.session.data.count = ((req.session.data.count as number | undefined) ?? 0) + 1;
                res.end(String(req.session.data.count));
              });
              server.get('/count-if', (req, res) => {
                if (req.query.modify === '1') req.session.data.count = ((req.session.data.count as number | undefined) ?? 0) + 1;
                res.end(String(req.session.data.count ?? 0));
              });
              server.put('/token/:token', (req, res) => {
                req.session.data.token = req.params.token;
                res.end(`token=${req.session.data.token}`);
              });
              server.get('/token', (req, res) => {
                res.end(`token=${(req.session.data.token as string | undefined) ?? ''}`);
              });
              server.get('/nested-cookie', (req, res) => {
                const user = (req.session.data.user ?? {}) as { name?: string; cookie?: number };
                user.name = 'bob';
                user.cookie = (user.cookie ?? 0) + 1;
                req.session.data.user = user;
                res.end();
              });
              server.get('/keys', (req, res) => {
                req.session.data.foo = 'foo';
                req.session.data.bar = 'bar';
                res.end(Object.keys(req.session.data).sort().join(','));
              });
              server.get('/reserved', (req, res) => {
                // Keys named like the session's methods are data, nothing more.
                Object.assign(req.session.data, { save: 'nope', destroy: 1, regenerate: null, reload: [], touch: {} });
                res.end(typeof req.session.save);
              });
              server.get('/reserved-check', (req, res) => {
                res.json({ methods: [typeof req.session.save, typeof req.session.destroy, typeof req.session.regenerate], save: req.session.data.save });
              });
              server.get('/save-then-respond', safe(async (req, res) => {
                req.session.data.hit = true;
                await req.session.save();
                const stored = await app.manager.load({ appendSetCookie() {} }, req.session.id!);
                res.end(stored.data.hit === true ? 'stored' : 'empty');
              }));
              server.get('/reload-then-save', safe(async (req, res) => {
                req.session.data.hit = true;
                await req.session.reload();
                await req.session.save();
                res.end('saved');
              }));
              server.get('/reload-sees-others', safe(async (req, res) => {
                req.session.data.url = '/foo';
                // Another request changes the session meanwhile…
                const cookie = req.headers.cookie!;
                await (await post(app.url('/t/data'), { url: '/bar' }, cookie)).arrayBuffer();
                // …and reload() drops this request's own change for what is stored now.
                await req.session.reload();
                res.end(`saw ${req.session.data.url}`);
              }));
              server.get('/reload-missing', safe(async (req, res) => {
                await app.manager.destroy(null, req.session.id!);
                try {
                  await req.session.reload();
                  res.end('reloaded');
                } catch (error) {
                  res.status(500).end(`${(error as { code: string }).code}, fresh: ${req.session.isNew}`);
                }
              }));
              server.get('/touch', safe(async (req, res) => {
                await req.session.touch();
                res.end();
              }));
              server.get('/regenerate', safe(async (req, res) => {
                const id = req.session.id;
                await req.session.regenerate();
                res.end(String(req.session.id === id));
              }));
            },
          },
        });
      });
      after(() => app.close());

      it("saveUninitialized: 'should prevent save of uninitialized session' and 'should prevent uninitialized session from being touched'", async () => {
        app.writes.reset();
        const response = await get(app.url('/t/session'));
        assert.equal(response.headers.getSetCookie().length, 0);
        clock.advance(TOUCH * 2);
        await (await get(app.url('/t/session'))).arrayBuffer();
        assert.equal(app.writes.total, 0, 'nothing stored, nothing touched');
      });

      it("saveUninitialized: 'should still save modified session'", async () => {
        app.writes.reset();
        const response = await get(app.url('/count'));
        assert.equal(await response.text(), '1');
        assert.ok(cookieOf(response));
        assert.equal(app.writes.insert, 1);
      });

      it("req.session: 'should persist' across requests", async () => {
        let response = await get(app.url('/count'));
        const cookie = cookieOf(response)!;
        for (const expected of ['2', '3']) {
          response = await get(app.url('/count'), cookie);
          assert.equal(await response.text(), expected);
        }
      });

      it("resave false: 'should prevent save on unmodified session' and 'should still save modified session'", async () => {
        const first = await fetch(app.url('/token/w6RHhwaA'), { method: 'PUT' });
        assert.equal(await first.text(), 'token=w6RHhwaA');
        const cookie = cookieOf(first)!;
        app.writes.reset();
        const read = await get(app.url('/token'), cookie);
        assert.equal(await read.text(), 'token=w6RHhwaA');
        assert.equal(app.writes.total, 0);
        const changed = await fetch(app.url('/token/zfQ3rzM3'), { method: 'PUT', headers: { cookie } });
        assert.equal(await changed.text(), 'token=zfQ3rzM3');
        assert.equal(app.writes.update, 1);
      });

      it("resave false: 'should detect a \"cookie\" property as modified' (a nested change is a change)", async () => {
        const first = await get(app.url('/nested-cookie'));
        const cookie = cookieOf(first)!;
        app.writes.reset();
        await (await get(app.url('/nested-cookie'), cookie)).arrayBuffer();
        assert.equal(app.writes.update, 1);
        assert.deepEqual((await sessionState(app, cookie)).data.user, { name: 'bob', cookie: 2 });
      });

      it("req.session: 'should only set-cookie when modified'", async () => {
        const first = await get(app.url('/count-if?modify=1'));
        const cookie = cookieOf(first)!;
        const unmodified = await get(app.url('/count-if'), cookie);
        assert.equal(await unmodified.text(), '1');
        assert.equal(unmodified.headers.getSetCookie().length, 0);
        const modified = await get(app.url('/count-if?modify=1'), cookie);
        assert.equal(await modified.text(), '2');
        assert.ok(cookieOf(modified));
      });

      it(`rolling: an unmodified session ${rolling ? "gets a new cookie once touchThreshold has passed ('should force cookie on unmodified session')" : "never gets a new cookie ('should default to false')"}`, async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        const soon = await get(app.url('/t/session'), cookie);
        assert.equal(soon.headers.getSetCookie().length, 0, 'not before touchThreshold');
        clock.advance(TOUCH + MINUTE);
        app.writes.reset();
        const later = await get(app.url('/t/session'), cookie);
        if (rolling) {
          assert.ok(cookieOf(later), 'a cookie with the slid expiry');
          assert.notEqual(expiresOf(later), expiresOf(first));
          assert.equal(app.writes.touch, 1, 'a metadata-only touch, not a save');
          assert.equal(app.writes.update, 0);
        } else {
          assert.equal(later.headers.getSetCookie().length, 0);
          assert.equal(app.writes.total, 0);
        }
        assert.equal(await later.text().then((t) => JSON.parse(t).data.count), 1);
      });

      it("rolling: 'should not force cookie on uninitialized session if saveUninitialized option is set to false'", async () => {
        clock.advance(TOUCH * 3);
        const response = await get(app.url('/t/session'));
        assert.equal(response.headers.getSetCookie().length, 0);
      });

      it("when sid not in store: 'should create a new session' with 'a new sid'", async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        const { id } = await sessionState(app, cookie);
        await app.manager.destroy(null, id!);
        const second = await get(app.url('/count'), cookie);
        assert.equal(await second.text(), '1', 'a new session, counting from 1');
        const renewed = cookieOf(second)!;
        assert.notEqual((await sessionState(app, renewed)).id, id);
      });

      it("when session expired in store: 'should create a new session' with 'a new sid'", async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        const { id } = await sessionState(app, cookie);
        clock.advance(LIFETIME + MINUTE);
        const second = await get(app.url('/count'), cookie);
        assert.equal(await second.text(), '1');
        assert.notEqual((await sessionState(app, cookieOf(second)!)).id, id);
      });

      it("when response ended: 'should have saved session with updated cookie expiration' (Expires is the session's)", async () => {
        const response = await get(app.url('/count'));
        const { id } = await sessionState(app, cookieOf(response)!);
        const stored = await app.manager.load({ appendSetCookie() {} }, id!);
        assert.equal(expiresOf(response), stored.expiresAt.toUTCString());
        assert.match(response.headers.getSetCookie()[0]!, new RegExp(`Max-Age=${LIFETIME / 1000}`));
      });

      it("req.session: 'should not have enumerable methods' and 'should only have session data enumerable'", async () => {
        const response = await get(app.url('/keys'));
        assert.equal(await response.text(), 'bar,foo');
      });

      it("'should handle reserved properties in storage': data named like the methods is only data", async () => {
        const first = await get(app.url('/reserved'));
        assert.equal(await first.text(), 'function');
        const again = await get(app.url('/reserved-check'), cookieOf(first));
        assert.deepEqual(await again.json(), { methods: ['function', 'function', 'function'], save: 'nope' });
      });

      it(".save(): 'should save session to store' before the response, and 'should prevent end-of-request save'", async () => {
        app.writes.reset();
        const response = await get(app.url('/save-then-respond'));
        assert.equal(await response.text(), 'stored');
        assert.ok(cookieOf(response));
        assert.deepEqual([app.writes.insert, app.writes.update], [1, 1], 'a new session: one insert, one data write, and no second save at the end');
        app.writes.reset();
        const again = await get(app.url('/save-then-respond'), cookieOf(response));
        assert.equal(await again.text(), 'stored');
        assert.equal(app.writes.total, 0, 'unchanged since the last save: nothing to write, now or at the end');
      });

      it(".save(): 'should prevent end-of-request save on reloaded session'", async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        app.writes.reset();
        const response = await get(app.url('/reload-then-save'), cookie);
        assert.equal(await response.text(), 'saved');
        assert.equal(app.writes.total, 0, 'reload dropped the change, so neither save had anything to write');
        assert.equal((await sessionState(app, cookie)).data.hit, undefined);
      });

      it(".reload(): 'should reload session from store'", async () => {
        const first = await get(app.url('/count'));
        const response = await get(app.url('/reload-sees-others'), cookieOf(first));
        assert.equal(await response.text(), 'saw /bar');
      });

      it(".reload(): 'should error if session missing', leaving a fresh session", async () => {
        const first = await get(app.url('/count'));
        const response = await get(app.url('/reload-missing'), cookieOf(first));
        assert.equal(response.status, 500);
        assert.equal(await response.text(), 'ERR_SESSION_NOT_FOUND, fresh: true');
      });

      it(".touch(): 'should reset session expiration', whatever rolling says", async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        clock.advance(TOUCH + MINUTE);
        const touched = await get(app.url('/touch'), cookie);
        assert.ok(cookieOf(touched));
        assert.notEqual(expiresOf(touched), expiresOf(first));
        const { id } = await sessionState(app, cookie);
        const stored = await app.manager.load({ appendSetCookie() {} }, id!);
        assert.equal(stored.expiresAt.getTime(), clock.now + LIFETIME);
      });

      it(".regenerate(): 'should destroy/replace the previous session'", async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        const { id } = await sessionState(app, cookie);
        const response = await get(app.url('/regenerate'), cookie);
        assert.equal(await response.text(), 'false');
        const renewed = cookieOf(response)!;
        assert.notEqual(renewed, cookie);
        assert.equal(await app.manager.isValid(id!), false, 'the old id is gone from the store');
        assert.equal((await sessionState(app, renewed)).data.count, 1, 'the data moved with it');
      });

      it(".destroy(): 'should destroy the previous session'", async () => {
        const first = await get(app.url('/count'));
        const cookie = cookieOf(first)!;
        const { id } = await sessionState(app, cookie);
        const response = await post(app.url('/t/destroy'), {}, cookie);
        assert.ok(clearsCookie(response));
        assert.equal(await app.manager.isValid(id!), false);
      });
    });
  }

  describe(`express-session's cookie cases on ${kind}`, () => {
    let app: FrameworkApp;
    const clock = new FakeClock(); // Max-Age is whole seconds from "now": a still clock keeps it exact
    before(async () => {
      app = await startFrameworkApp({
        kind,
        session: { now: clock.read, cookieName: 'sessid', cookiePath: '/', cookieDomain: 'example.test', cookieSecure: true, cookieHttpOnly: false, cookieSameSite: 'Strict', sessionLifetime: 2 * HOUR },
        routes: {
          express(server) {
            server.get('/set', (req, res) => {
              req.session.data.active = true;
              res.setHeader('Set-Cookie', 'previous=cookieValue; Path=/');
              res.end();
            });
          },
        },
      });
    });
    after(() => app.close());

    it("'should serialize as parameters': name, Path, Domain, Secure, HttpOnly, SameSite, Expires and Max-Age as configured", async () => {
      const response = await get(app.url('/set'));
      const ours = response.headers.getSetCookie().find((c) => c.startsWith('sessid='));
      assert.ok(ours, "the cookie carries the configured name ('name option')");
      const attributes = ours.split(';').slice(1).map((a) => a.trim());
      assert.ok(attributes.includes('Path=/'));
      assert.ok(attributes.includes('Domain=example.test'));
      assert.ok(attributes.includes('Secure'));
      assert.ok(attributes.includes('SameSite=Strict'));
      assert.ok(!attributes.includes('HttpOnly'), 'cookieHttpOnly: false leaves HttpOnly out');
      assert.ok(attributes.includes(`Max-Age=${(2 * HOUR) / 1000}`));
      assert.ok(attributes.some((a) => a.startsWith('Expires=')));
    });

    it("'should preserve cookies set before writeHead is called'", async () => {
      const response = await get(app.url('/set'));
      assert.deepEqual(response.headers.getSetCookie().map((c) => c.split('=')[0]).sort(), ['previous', 'sessid']);
    });

    it('never sets a session cookie for a request that does not use the session', async () => {
      const response = await get(app.url('/t/session'), 'sessid=whatever');
      assert.equal(response.headers.getSetCookie().length, 0);
    });
  });
}
