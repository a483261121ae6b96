/**
 * CookieWriter.clearingValues(): the Set-Cookie values that delete planted
 * session cookies too. A sibling subdomain (or a plain-http injection) can
 * store `rockstar_session` under Domain=<parent> for a few paths; a browser
 * deletes a cookie only for a Set-Cookie naming its exact scope, so the
 * values are checked against a browser's cookie rules (browser-cookie-jar.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig, type SessionConfig } from '../../src/config.ts';
import { CookieWriter, MAX_CLEARING_BYTES, MAX_CLEARING_VALUES } from '../../src/http/cookie.ts';
import { BrowserCookieJar, type Origin } from './browser-cookie-jar.ts';

const KEY = Buffer.alloc(32, 3);
const writerFor = (overrides: Partial<SessionConfig> = {}): CookieWriter =>
  new CookieWriter(validateConfig({ storageType: 'cache', encryptionKey: KEY, ...overrides }));

const APP: Origin = { host: 'app.example.com', path: '/', secure: true };
const SIBLING: Origin = { host: 'evil.example.com', path: '/', secure: true };
const at = (origin: Origin, path: string): Origin => ({ ...origin, path });

/** A jar holding our real cookie plus cookies planted by a sibling subdomain and by an injection on our own host. */
function plantedJar(name = 'rockstar_session', ourCookie = `${name}=ours; Path=/; Secure; HttpOnly`): BrowserCookieJar {
  const jar = new BrowserCookieJar();
  assert.ok(jar.receive(APP, ourCookie));
  for (const path of ['/', '/profile', '/profile/', '/profile/edit']) {
    assert.ok(jar.receive(SIBLING, `${name}=planted; Domain=example.com; Path=${path}; Secure`), `planted at ${path}`);
  }
  assert.ok(jar.receive(at(APP, '/profile/edit'), `${name}=injected; Path=/profile; Secure`));
  return jar;
}

function applyAll(jar: BrowserCookieJar, origin: Origin, values: readonly string[]): void {
  for (const value of values) assert.ok(jar.receive(origin, value), `the browser would ignore ${value}`);
}

describe('clearingValues', () => {
  it('starts with the configured clearing value, the one clearing() returns', () => {
    for (const overrides of [{}, { cookiePath: '/app' }, { cookieDomain: 'example.com' }, { cookieName: '__Host-sid' }]) {
      const writer = writerFor(overrides);
      assert.equal(writer.clearingValues('/x', 'app.example.com')[0], writer.clearing());
    }
  });

  it('without request details clears only the configured scope and host-only Path=/, which leaves planted parent-domain cookies', () => {
    const jar = plantedJar();
    applyAll(jar, at(APP, '/profile/edit'), writerFor().clearingValues());
    assert.deepEqual(jar.scopesOf('rockstar_session').sort(), ['example.com /', 'example.com /profile', 'example.com /profile/', 'example.com /profile/edit', 'host-only /profile'].sort());
  });

  it("given the request's path and host, clears every planted cookie that request carries", () => {
    const jar = plantedJar();
    const request = at(APP, '/profile/edit');
    assert.match(jar.cookieHeader(request), /planted/);
    applyAll(jar, request, writerFor().clearingValues('/profile/edit?tab=1', 'app.example.com:443'));
    assert.equal(jar.cookieHeader(request), '', 'nothing named rockstar_session is sent any more');
    assert.deepEqual(jar.scopesOf('rockstar_session'), []);
  });

  it("clears the configured domain's parents without being told the host", () => {
    const jar = new BrowserCookieJar();
    const origin = { host: 'www.app.example.com', path: '/', secure: true };
    jar.receive(origin, 'rockstar_session=ours; Domain=app.example.com; Path=/; Secure');
    jar.receive({ ...origin, host: 'evil.example.com' }, 'rockstar_session=planted; Domain=example.com; Path=/; Secure');
    applyAll(jar, origin, writerFor({ cookieDomain: 'app.example.com' }).clearingValues());
    assert.deepEqual(jar.scopesOf('rockstar_session'), []);
  });

  it('clears every path a request path matches: /a/b/c gives /a/b/c, /a/b/, /a/b, /a/, /a and /', () => {
    const jar = new BrowserCookieJar();
    const request = at(APP, '/a/b/c');
    for (const path of ['/', '/a', '/a/', '/a/b', '/a/b/', '/a/b/c']) assert.ok(jar.receive(request, `rockstar_session=${path}; Path=${path}; Secure`));
    jar.receive(request, 'rockstar_session=elsewhere; Path=/z; Secure');
    applyAll(jar, request, writerFor().clearingValues('/a/b/c'));
    // /z is not sent with this request, so it cannot lock anyone out here; it is cleared on a request under /z.
    assert.deepEqual(jar.scopesOf('rockstar_session'), ['host-only /z']);
  });

  it('clears what a __Secure- cookie can be planted as: every value carries Secure, or the browser would ignore it', () => {
    const name = '__Secure-sid';
    const jar = plantedJar(name);
    const request = at(APP, '/profile/edit');
    const values = writerFor({ cookieName: name }).clearingValues('/profile/edit', 'app.example.com');
    for (const value of values) assert.match(value, /; Secure(;|$)/);
    applyAll(jar, request, values);
    assert.deepEqual(jar.scopesOf(name), []);
  });

  it('for a __Host- cookie returns its one valid clearing form: nothing else can have been stored under that name', () => {
    const name = '__Host-sid';
    const writer = writerFor({ cookieName: name });
    const values = writer.clearingValues('/profile/edit', 'app.example.com');
    assert.deepEqual(values, [`${name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`]);
    const jar = new BrowserCookieJar();
    assert.ok(jar.receive(APP, `${name}=ours; Path=/; Secure; HttpOnly`));
    // What an attacker would try is refused by the browser itself.
    assert.equal(jar.receive(SIBLING, `${name}=planted; Domain=example.com; Path=/; Secure`), false);
    assert.equal(jar.receive(at(APP, '/profile/edit'), `${name}=planted; Path=/profile; Secure`), false);
    applyAll(jar, APP, values);
    assert.deepEqual(jar.scopesOf(name), []);
  });

  it('keeps the configured flags on every value', () => {
    const values = writerFor({ cookieSecure: false, cookieHttpOnly: false, cookieSameSite: 'Strict' }).clearingValues('/a/b', 'app.example.com');
    assert.ok(values.length > 1);
    for (const value of values) {
      assert.match(value, /^rockstar_session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; (Domain=[a-z.]+; )?Path=\/[^;]*; SameSite=Strict$/);
    }
  });

  it(`stays within ${MAX_CLEARING_VALUES} values and ${MAX_CLEARING_BYTES} bytes for a deep path and a long host`, () => {
    const host = `${Array.from({ length: 30 }, (_, i) => `l${i}`).join('.')}.example.com`;
    const values = writerFor({ cookieDomain: 'a.b.c.d.example.com' }).clearingValues(`/${'segment/'.repeat(100)}`, host);
    assert.ok(values.length <= MAX_CLEARING_VALUES, `${values.length} values`);
    assert.ok(values.reduce((sum, v) => sum + v.length, 0) <= MAX_CLEARING_BYTES);
    assert.equal(new Set(values).size, values.length, 'no duplicates');
  });

  it('never lets request input into a header: odd paths and hosts are ignored', () => {
    const writer = writerFor();
    const expected = writer.clearingValues();
    const hostile: Array<[unknown, unknown]> = [
      ['/a;b', 'app.example.com;Domain=evil.com'],
      ['/a\r\nSet-Cookie: x=1', 'app.example.com\r\nX: 1'],
      ['relative/path', '[::1]:8080'],
      ['/with space', '127.0.0.1'],
      [`/${'x'.repeat(5000)}`, `${'a'.repeat(300)}.com`],
      ['/\u00e9', 'b\u00fccher.example'],
      [42, { host: 'x' }],
      ['', ''],
      ['?only=query', '.'],
    ];
    for (const [path, host] of hostile) {
      const values = writer.clearingValues(path as string, host as string);
      assert.deepEqual(values, expected, `${JSON.stringify(path)} / ${JSON.stringify(host)}`);
    }
  });

  it('a leading dot in cookieDomain names the same scope once', () => {
    const values = writerFor({ cookieDomain: '.example.com' }).clearingValues();
    assert.equal(values.filter((v) => /Domain=\.?example\.com; Path=\/;/.test(v)).length, 1);
  });
});
