/**
 * The session middleware composes with Express's body parsers in either
 * order (json, urlencoded, raw, text), on Express 4 and 5; and nodeHandler,
 * mounted after a parser, uses what the parser read instead of calling the
 * client's body broken (it used to answer a valid JSON body with 400 "not
 * valid JSON", because the stream was already consumed).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import express5 from 'express';
import express4 from 'express4';
import type { ExpressModule } from '../../examples/express.ts';
import { listen, type RunningExpressApp } from '../../examples/express.ts';
import { sessionMiddleware } from '../../src/http/express.ts';
import { nodeHandler } from '../../src/http/node.ts';
import { createSessionManager, type SessionManager } from '../../src/index.ts';
import { cookieOf } from './framework-fixture.ts';

const FRAMEWORKS: ReadonlyArray<readonly [string, ExpressModule]> = [
  ['express4', express4 as unknown as ExpressModule],
  ['express5', express5],
];

for (const [kind, express] of FRAMEWORKS) {
  for (const order of ['parsers first', 'session first'] as const) {
    describe(`body parsers on ${kind}, ${order}`, () => {
      let manager: SessionManager;
      let running: RunningExpressApp;

      before(async () => {
        manager = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cleanupInterval: 0, cookieSecure: false });
        const app = express();
        const parsers = [express.json(), express.urlencoded({ extended: false }), express.text(), express.raw({ type: 'application/octet-stream' })];
        if (order === 'parsers first') app.use(...parsers, sessionMiddleware(manager));
        else app.use(sessionMiddleware(manager), ...parsers);
        app.post('/store', (req, res) => {
          const body: unknown = req.body;
          req.session.data.body = Buffer.isBuffer(body) ? body.toString('hex') : body;
          res.json({ received: req.session.data.body });
        });
        app.get('/stored', (req, res) => {
          res.json({ body: req.session.data.body ?? null });
        });
        // A terminal nodeHandler route behind the same parsers.
        app.post(
          '/node-handler',
          nodeHandler(async (exchange) => {
            exchange.json(200, { fields: await exchange.readFields() });
          }),
        );
        app.post(
          '/node-handler-raw',
          nodeHandler(async (exchange) => {
            exchange.json(200, { bytes: (await exchange.readBody()).toString('utf8') });
          }),
        );
        running = await listen(app);
      });
      after(async () => {
        await running.close();
        await manager.close();
      });

      async function storeAndReadBack(body: string, contentType: string, expected: unknown): Promise<void> {
        const response = await fetch(`${running.url}/store`, { method: 'POST', headers: { 'content-type': contentType }, body });
        assert.equal(response.status, 200, `${contentType}: ${response.status}`);
        assert.deepEqual(await response.json(), { received: expected });
        const cookie = cookieOf(response);
        assert.ok(cookie, `${contentType}: the session was stored`);
        const stored = await fetch(`${running.url}/stored`, { headers: { cookie } });
        assert.deepEqual(await stored.json(), { body: expected });
      }

      it('stores parsed JSON, forms, text and raw bodies in the session', async () => {
        await storeAndReadBack('{"a":1,"b":["x"]}', 'application/json', { a: 1, b: ['x'] });
        await storeAndReadBack('a=1&b=two+words', 'application/x-www-form-urlencoded', { a: '1', b: 'two words' });
        await storeAndReadBack('plain words', 'text/plain', 'plain words');
        await storeAndReadBack('\u0001\u0002', 'application/octet-stream', '0102');
      });

      it("answers the parsers' own 400 for broken JSON, and the server goes on", async () => {
        const response = await fetch(`${running.url}/store`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
        assert.equal(response.status, 400);
        assert.equal(cookieOf(response), undefined);
        await response.arrayBuffer();
        await storeAndReadBack('{"ok":true}', 'application/json', { ok: true });
      });

      it('lets nodeHandler read a body a parser already read: parsed JSON and forms, raw bytes and text', async () => {
        const json = await fetch(`${running.url}/node-handler`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"ada","password":"rockstar"}' });
        assert.equal(json.status, 200);
        assert.deepEqual(await json.json(), { fields: { username: 'ada', password: 'rockstar' } });
        const form = await fetch(`${running.url}/node-handler`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'productId=42' });
        assert.deepEqual(await form.json(), { fields: { productId: '42' } });
        const raw = await fetch(`${running.url}/node-handler-raw`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'raw bytes' });
        assert.deepEqual(await raw.json(), { bytes: 'raw bytes' });
        const text = await fetch(`${running.url}/node-handler-raw`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'some text' });
        assert.deepEqual(await text.json(), { bytes: 'some text' });
        // A JSON array is the client's mistake for a handler that wants fields: still a 400, and the right one.
        const array = await fetch(`${running.url}/node-handler`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
        assert.equal(array.status, 400);
        assert.match(((await array.json()) as { error: string }).error, /must be a JSON object/);
      });
    });
  }

  describe(`nodeHandler behind a middleware that consumed the body and kept nothing, on ${kind}`, () => {
    let running: RunningExpressApp;
    const logged: unknown[] = [];

    before(async () => {
      const app = express();
      app.use((req, _res, next) => {
        req.resume(); // reads the body and throws it away
        req.once('end', () => next());
      });
      app.post(
        '/node-handler',
        nodeHandler(
          async (exchange) => {
            exchange.json(200, { fields: await exchange.readFields() });
          },
          { onError: (error) => void logged.push(error) },
        ),
      );
      running = await listen(app);
    });
    after(() => running.close());

    it('answers 500 and logs why, instead of blaming the client with a 400', async () => {
      const response = await fetch(`${running.url}/node-handler`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"ada"}' });
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { error: 'internal server error' });
      assert.equal(logged.length, 1);
      assert.match((logged[0] as Error).message, /already read by a middleware before nodeHandler/);
    });
  });
}
