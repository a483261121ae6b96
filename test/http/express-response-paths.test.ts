/**
 * Every way an Express route writes its response goes out with the session
 * saved first and its cookie on it: res.json, res.send, res.end (with and
 * without a body or a Content-Length), res.redirect, res.sendFile, piped
 * streams (held back without buffering them whole), writeHead with its own
 * headers, flushHeaders, HEAD. Cookies the application sets itself are kept.
 * Another middleware's patch of res.write/res.end, before or after ours,
 * still works. A save that fails during a streamed response replaces it with
 * the error's status, and the server goes on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Express, NextFunction, Request, Response as ExpressResponse } from 'express';
import type { ExpressModule } from '../../examples/express.ts';
import { cookieOf, EXPRESS_KINDS, get, sessionState, startFrameworkApp, storeOutage, type FrameworkApp } from './framework-fixture.ts';

const BIG = 2 * 1024 * 1024;

/** A stream of `size` bytes made on demand (it never exists whole in memory). */
function generated(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      const chunk = Math.min(64 * 1024, size - sent);
      if (chunk === 0) return this.push(null);
      sent += chunk;
      this.push(Buffer.alloc(chunk, 0x61));
    },
  });
}

/** Wraps res.write/res.end the way compression-like middleware does. */
function patchWrites(res: ExpressResponse): void {
  const write = res.write;
  const end = res.end;
  res.write = function patched(this: ExpressResponse, ...args: unknown[]) {
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof res.write;
  res.end = function patched(this: ExpressResponse, ...args: unknown[]) {
    return (end as (...a: unknown[]) => ExpressResponse).apply(this, args);
  } as typeof res.end;
}

for (const kind of EXPRESS_KINDS) {
  describe(`response paths on ${kind}`, () => {
    let app: FrameworkApp;
    let dir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rockstar-express-paths-'));
      await writeFile(join(dir, 'file.txt'), 'file contents');
      const mark = (req: Request, path: string): void => {
        req.session.data.via = path;
      };
      app = await startFrameworkApp({
        kind,
        routes: {
          express(server: Express) {
            server.get('/p/json', (req, res) => {
              mark(req, 'json');
              res.json({ ok: true });
            });
            server.get('/p/send', (req, res) => {
              mark(req, 'send');
              res.send('sent');
            });
            server.get('/p/end', (req, res) => {
              mark(req, 'end');
              res.end('ended');
            });
            server.get('/p/end-empty', (req, res) => {
              mark(req, 'end-empty');
              res.setHeader('Content-Length', '0');
              res.end();
            });
            server.get('/p/end-null', (req, res) => {
              mark(req, 'end-null');
              res.end(null);
            });
            server.get('/p/multi-write', (req, res) => {
              mark(req, 'multi-write');
              res.setHeader('Content-Length', '12');
              res.write('hello, ');
              res.end('world');
            });
            server.get('/p/end-twice', (req, res) => {
              mark(req, 'end-twice');
              res.setHeader('Content-Type', 'text/plain');
              res.end('Hello, world!');
              res.end();
              res.end(''); // node ignores this one too (an empty chunk)
            });
            // A route that answers, then falls through to the 404 handler below it: a second response.
            server.get('/p/answered-twice', (req, res, next) => {
              mark(req, 'answered-twice');
              res.json({ first: true });
              next();
            });
            server.get('/p/answered-twice', (_req, res) => {
              res.status(404).set('x-second', 'yes').json({ second: 'response, longer than the first one' });
            });
            server.get('/p/redirect', (req, res) => {
              mark(req, 'redirect');
              res.redirect('/t/session');
            });
            server.get('/p/file', (req, res, next) => {
              mark(req, 'file');
              res.sendFile(join(dir, 'file.txt'), (error) => error && next(error));
            });
            server.get('/p/stream', (req, res) => {
              mark(req, 'stream');
              res.setHeader('Content-Type', 'application/octet-stream');
              generated(BIG).pipe(res);
            });
            server.get('/p/slow-write', (req, res) => {
              mark(req, 'slow-write');
              res.write('hello, ');
              setTimeout(() => res.end('world!'), 30);
            });
            server.get('/p/write-head', (req, res) => {
              mark(req, 'write-head');
              res.setHeader('Set-Cookie', 'before=1; Path=/');
              res.writeHead(201, 'Made', { 'Set-Cookie': 'inhead=2; Path=/', 'X-Head': 'yes', 'Content-Type': 'text/plain' });
              res.end('made');
            });
            server.get('/p/write-head-pairs', (req, res) => {
              mark(req, 'write-head-pairs');
              res.writeHead(200, [['X-Pair', 'a'], ['Set-Cookie', 'pair=3; Path=/']] as unknown as Record<string, string>);
              res.end('pairs');
            });
            server.get('/p/chained', (req, res) => {
              mark(req, 'chained');
              res.writeHead(202).end('chained');
            });
            server.get('/p/flush', (req, res) => {
              mark(req, 'flush');
              res.flushHeaders();
              res.end('flushed');
            });
            server.get('/p/patched-after', (req, res) => {
              patchWrites(res);
              mark(req, 'patched-after');
              res.write('hello, ');
              res.end('world');
            });
            server.get('/p/unchanged', (_req, res) => {
              res.end('nothing');
            });
          },
        },
      });
    });
    after(async () => {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function expectSaved(path: string, expect: { status?: number; body?: string; method?: string } = {}): Promise<Response> {
      const response = await fetch(app.url(path), { method: expect.method ?? 'GET', redirect: 'manual' });
      assert.equal(response.status, expect.status ?? 200, `${path}: status`);
      const cookie = cookieOf(response);
      assert.ok(cookie, `${path}: the response carries the session cookie`);
      assert.equal(response.headers.get('cache-control'), 'no-store', `${path}: and Cache-Control: no-store`);
      assert.match(response.headers.get('vary') ?? '', /cookie/i, `${path}: and Vary: Cookie`);
      const text = await response.text();
      if (expect.body !== undefined) assert.equal(text, expect.body, `${path}: body`);
      // The cookie names a stored session holding what the route set: saved before the headers went out.
      assert.equal((await sessionState(app, cookie)).data.via, path.slice(3), `${path}: the session was stored`);
      return response;
    }

    it('saves before res.json, res.send and res.end, with or without a body or a Content-Length', async () => {
      await expectSaved('/p/json', { body: '{"ok":true}' });
      await expectSaved('/p/send', { body: 'sent' });
      await expectSaved('/p/end', { body: 'ended' });
      await expectSaved('/p/end-empty', { body: '' });
      await expectSaved('/p/end-null', { body: '' });
      await expectSaved('/p/multi-write', { body: 'hello, world' });
      await expectSaved('/p/chained', { status: 202, body: 'chained' });
      await expectSaved('/p/flush', { body: 'flushed' });
    });

    it('handles a second res.end as node does (ignored, and reported as nothing)', async () => {
      const before = app.logged.length;
      const response = await expectSaved('/p/end-twice', { body: 'Hello, world!' });
      assert.equal(response.headers.get('content-type'), 'text/plain');
      assert.equal(app.logged.length, before);
    });

    it('sends the first of two responses as it was ended, drops the second and reports it, and goes on', async () => {
      const before = app.logged.length;
      const response = await expectSaved('/p/answered-twice', { body: '{"first":true}' });
      assert.equal(response.headers.get('content-length'), String('{"first":true}'.length));
      assert.equal(response.headers.get('x-second'), null, 'nothing of the second response');
      const reported = app.logged.slice(before).map((entry) => (entry.error as { code?: string }).code);
      assert.deepEqual(reported, ['ERR_STREAM_WRITE_AFTER_END']);
      await expectSaved('/p/json', { body: '{"ok":true}' }); // the process is still there
    });

    it('saves before a redirect, a sendFile and a HEAD response', async () => {
      const redirect = await expectSaved('/p/redirect', { status: 302 });
      assert.equal(redirect.headers.get('location'), '/t/session');
      await expectSaved('/p/file', { body: 'file contents' });
      await expectSaved('/p/json', { method: 'HEAD', body: '' });
    });

    it('holds a piped 2 MiB stream until the save is done, then sends all of it', async () => {
      const response = await fetch(app.url('/p/stream'));
      assert.equal(response.status, 200);
      assert.ok(cookieOf(response));
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(body.length, BIG);
      assert.ok(body.every((byte) => byte === 0x61));
      assert.equal((await sessionState(app, cookieOf(response))).data.via, 'stream');
    });

    it('saves on the first write of a slow response', async () => {
      await expectSaved('/p/slow-write', { body: 'hello, world!' });
    });

    it("keeps the application's own cookies, set before or in writeHead, and writeHead's other headers", async () => {
      const response = await expectSaved('/p/write-head', { status: 201, body: 'made' });
      assert.equal(response.statusText, 'Made');
      assert.equal(response.headers.get('x-head'), 'yes');
      const names = response.headers.getSetCookie().map((c) => c.split('=')[0]).sort();
      assert.deepEqual(names, ['before', 'inhead', 'rockstar_session']);
      const pairs = await expectSaved('/p/write-head-pairs', { body: 'pairs' });
      assert.equal(pairs.headers.get('x-pair'), 'a');
      assert.deepEqual(pairs.headers.getSetCookie().map((c) => c.split('=')[0]).sort(), ['pair', 'rockstar_session']);
    });

    it('works with res.write/res.end patched by other middleware after it', async () => {
      await expectSaved('/p/patched-after', { body: 'hello, world' });
    });

    it('passes an unchanged response straight through: no cookie, no Cache-Control, only Vary', async () => {
      const response = await get(app.url('/p/unchanged'));
      assert.equal(await response.text(), 'nothing');
      assert.equal(response.headers.getSetCookie().length, 0);
      assert.equal(response.headers.get('cache-control'), null);
      assert.equal(response.headers.get('vary'), 'Cookie');
    });

    it('answers a streamed response whose save fails with 503, drops the stream, and goes on', async () => {
      app.writes.failure = storeOutage();
      let response: Response;
      try {
        response = await fetch(app.url('/p/stream'));
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('retry-after'), '1');
        assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.equal(((await response.json()) as { code: string }).code, 'ERR_SESSION_STORE');
        const redirect = await fetch(app.url('/p/redirect'), { redirect: 'manual' });
        assert.equal(redirect.status, 503);
        assert.equal(redirect.headers.get('location'), null, 'the failed redirect points nowhere');
        await redirect.arrayBuffer();
      } finally {
        app.writes.failure = null;
      }
      assert.equal(app.logged.filter((entry) => (entry.error as { code?: string }).code === 'ERR_SESSION_STORE').length, 2);
      await expectSaved('/p/stream');
    });
  });

  describe(`a res.write/res.end patch before the session middleware on ${kind}`, () => {
    let app: FrameworkApp;
    before(async () => {
      const { createExpressApp, listen } = await import('../../examples/express.ts');
      const { createSessionManager } = await import('../../src/index.ts');
      const { randomBytes } = await import('node:crypto');
      const manager = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cleanupInterval: 0, cookieSecure: false });
      const express = kind === 'express4' ? ((await import('express4')).default as unknown as ExpressModule) : (await import('express')).default;
      // The patch must come first: an outer app patches, then mounts the example app (and its middleware) inside.
      const outer = express();
      outer.use((_req: Request, res: ExpressResponse, next: NextFunction) => {
        patchWrites(res);
        next();
      });
      const extraRoutes = (inner: Express): void => {
        inner.get('/p/patched-before', (req, res) => {
          req.session.data.via = 'patched-before';
          res.write('hello, ');
          res.end('world');
        });
        inner.get('/t/session', (req, res) => void res.json({ id: req.session.id, isNew: req.session.isNew, data: req.session.data }));
      };
      outer.use(createExpressApp(manager, { express, extraRoutes }));
      const running = await listen(outer);
      app = { kind, manager, writes: undefined as never, logged: [], url: (path) => `${running.url}${path}`, close: async () => { await running.close(); await manager.close(); } };
    });
    after(() => app.close());

    it('still saves first and sends the whole body', async () => {
      const response = await fetch(app.url('/p/patched-before'));
      assert.equal(await response.text(), 'hello, world');
      const cookie = cookieOf(response);
      assert.ok(cookie);
      assert.equal((await sessionState(app, cookie)).data.via, 'patched-before');
    });
  });
}
