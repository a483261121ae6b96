/** Request bodies: JSON and forms parse, oversized bodies are a 413 (declared or streamed), junk is a 400/415. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SERVERS, startTestApp, type TestApp, jsonOf } from './app-fixture.ts';

const LIMIT = 1024;

for (const server of SERVERS) {
  describe(`request bodies on ${server}`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp({
        server,
        adapter: { maxBodyBytes: LIMIT },
        routes: () => [
          {
            method: 'POST',
            path: '/echo-fields',
            handler: async (exchange) => {
              exchange.json(200, { ...(await exchange.readFields()) });
            },
          },
        ],
      });
    });
    after(() => app.close());

    async function post(body: string | ReadableStream<Uint8Array>, contentType?: string, extra: RequestInit = {}): Promise<Response> {
      return fetch(app.url('/echo-fields'), { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {}, ...extra });
    }

    it('reads JSON objects and urlencoded forms', async () => {
      assert.deepEqual(await (await post('{"a":1,"b":"two"}', 'application/json')).json(), { a: 1, b: 'two' });
      assert.deepEqual(await (await post('a=1&b=two+words&c=%C3%A9', 'application/x-www-form-urlencoded')).json(), { a: '1', b: 'two words', c: 'é' });
      assert.deepEqual(await (await post('{"a":1}', 'application/vnd.api+json; charset=utf-8')).json(), { a: 1 });
    });

    it('answers 413 to a body over the limit, declared or streamed', async () => {
      const big = JSON.stringify({ username: 'x'.repeat(LIMIT), password: 'rockstar' });
      let response = await post(big, 'application/json');
      assert.equal(response.status, 413);
      assert.equal((await jsonOf(response)).code, 'ERR_HTTP_BODY_TOO_LARGE');
      // Chunked, so the size is only known while reading.
      const chunks = [new TextEncoder().encode(big.slice(0, 600)), new TextEncoder().encode(big.slice(600))];
      const stream = new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
      response = await post(stream, 'application/json', { duplex: 'half' } as RequestInit);
      assert.equal(response.status, 413);
      // And the server still serves normal requests.
      assert.deepEqual(await (await post('{"ok":true}', 'application/json')).json(), { ok: true });
    });

    it('answers 400 to broken JSON and to JSON that is not an object', async () => {
      for (const body of ['{"a":', '[1,2]', '"text"', 'null']) {
        const response = await post(body, 'application/json');
        assert.equal(response.status, 400, body);
        assert.equal((await jsonOf(response)).code, 'ERR_HTTP_BAD_BODY');
      }
    });

    it('answers 415 to bodies that are neither JSON nor a form', async () => {
      const response = await post('username=a', 'text/plain');
      assert.equal(response.status, 415);
    });

    it('answers 400 to a login without username or password', async () => {
      for (const body of [{}, { username: 'a' }, { password: 'rockstar' }, { username: 7, password: 'rockstar' }, { username: '', password: 'rockstar' }]) {
        const response = await fetch(app.url('/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        assert.equal(response.status, 400, JSON.stringify(body));
      }
    });

    it('logged no server failure', () => {
      assert.deepEqual(app.logged, []);
    });
  });
}
