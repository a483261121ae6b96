/**
 * Usernames that are not valid text are refused with 400, on both servers,
 * instead of collapsing into one user: a lenient decoder turns every bad
 * byte into U+FFFD, so 'ad\xFFa' and 'ad\xFEa' (or a lone "\ud800") would
 * all be the same account. Valid non-ASCII names still log in, each as
 * itself. On every server the example runs on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticateUser } from '../../examples/auth.ts';
import { jsonOf } from './app-fixture.ts';
import { EXAMPLE_SERVERS, startExample, type ExampleApp } from './example-servers.ts';

function loginWith(app: ExampleApp, contentType: string, body: Uint8Array | string): Promise<Response> {
  return fetch(app.url('/login'), { method: 'POST', headers: { 'content-type': contentType }, body });
}

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** A JSON login body whose username holds `raw` bytes as they are, not escaped. */
function jsonWithRawBytes(prefix: string, raw: number[], suffix: string): Uint8Array {
  return Buffer.concat([Buffer.from(`{"username":"${prefix}`), Buffer.from(raw), Buffer.from(`${suffix}","password":"rockstar"}`)]);
}

for (const server of EXAMPLE_SERVERS) {
  describe(`invalid UTF-8 in usernames on ${server}`, () => {
    let app: ExampleApp;
    before(async () => {
      app = await startExample(server);
    });
    after(() => app.close());

    it('refuses a JSON body with bytes that are not UTF-8, with 400 ERR_HTTP_BAD_BODY', async () => {
      for (const raw of [[0xff], [0xfe], [0xc3], [0xed, 0xa0, 0x80] /* an encoded surrogate */, [0xc0, 0xaf] /* overlong '/' */]) {
        const response = await loginWith(app, JSON_TYPE, jsonWithRawBytes('ad', raw, 'a'));
        assert.equal(response.status, 400, JSON.stringify(raw));
        assert.equal((await jsonOf(response)).code, 'ERR_HTTP_BAD_BODY');
      }
    });

    it('refuses form fields whose percent-escapes, or raw bytes, are not UTF-8', async () => {
      for (const body of ['username=ad%FFa&password=rockstar', 'username=ad%C3&password=rockstar', 'username=%ED%A0%80&password=rockstar']) {
        const response = await loginWith(app, FORM_TYPE, body);
        assert.equal(response.status, 400, body);
        assert.equal((await jsonOf(response)).code, 'ERR_HTTP_BAD_BODY');
      }
      const rawBytes = Buffer.concat([Buffer.from('username=ad'), Buffer.from([0xff]), Buffer.from('a&password=rockstar')]);
      assert.equal((await loginWith(app, FORM_TYPE, rawBytes)).status, 400);
    });

    it('refuses a lone surrogate spelled as a JSON escape', async () => {
      for (const username of ['\ud800', 'ad\udfffa']) {
        const response = await loginWith(app, JSON_TYPE, JSON.stringify({ username, password: 'rockstar' }));
        assert.equal(response.status, 400, JSON.stringify(username));
      }
    });

    it('still logs in valid non-ASCII names, each as its own user', async () => {
      const names = ['zoë', 'zoe', 'Ωmega', '😀'];
      const ids = new Set<string>();
      for (const username of names) {
        const viaJson = await loginWith(app, JSON_TYPE, JSON.stringify({ username, password: 'rockstar' }));
        assert.equal(viaJson.status, 200, username);
        const id = (await jsonOf(viaJson)).user.user_id;
        assert.equal(id, authenticateUser(username, 'rockstar')!.id);
        const viaForm = await loginWith(app, FORM_TYPE, new URLSearchParams({ username, password: 'rockstar' }).toString());
        assert.equal(viaForm.status, 200, username);
        assert.equal((await jsonOf(viaForm)).user.user_id, id, `${username}: the same user from a form`);
        ids.add(id);
      }
      assert.equal(ids.size, names.length);
    });

    it('decodes forms as before otherwise: "+" is a space, %25 a "%"', async () => {
      const response = await loginWith(app, FORM_TYPE, 'username=50%25+off&password=rockstar');
      assert.equal(response.status, 200);
      assert.equal((await jsonOf(response)).user.username, '50% off');
    });

    // Express parses forms with its own body-parser (the strict check only refuses what is not UTF-8); the others with
    // src/http/body.ts, which keeps URLSearchParams' reading of a '%' that starts no escape.
    if (!server.startsWith('express')) {
      it('keeps a stray "%" as it is, as URLSearchParams does', async () => {
        const response = await loginWith(app, FORM_TYPE, 'username=50%25+off%&password=rockstar');
        assert.equal(response.status, 200);
        assert.equal((await jsonOf(response)).user.username, '50% off%');
      });
    }

    it('logged no server failure', () => {
      assert.deepEqual(app.logged, []);
    });
  });
}
