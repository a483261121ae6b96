/**
 * Every kind of Fastify reply goes out with the session committed first:
 * objects, strings, Buffers, streams, redirects, errors a route throws, and
 * replies sent from a hook. A save that fails replaces the reply with the
 * error's status (a stream payload is destroyed, not leaked), and hooks
 * registered after the plugin see request.session.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { cookieOf, get, sessionState, startFrameworkApp, storeOutage, type FrameworkApp } from './framework-fixture.ts';

describe('fastify reply paths', () => {
  let app: FrameworkApp;
  const destroyed: boolean[] = [];

  function stream(): Readable {
    const chunks = [Buffer.from('streamed '), Buffer.from('body')];
    const readable = new Readable({
      read() {
        this.push(chunks.shift() ?? null);
      },
    });
    readable.once('close', () => destroyed.push(readable.destroyed));
    return readable;
  }

  before(async () => {
    app = await startFrameworkApp({
      kind: 'fastify',
      routes: {
        fastify(server) {
          server.addHook('preHandler', async (request) => {
            if (request.url === '/r/hook-sees-session') request.session.data.fromHook = true;
          });
          server.get('/r/hook-sees-session', async (request) => ({ fromHook: request.session.data.fromHook }));
          server.get('/r/string', async (request, reply) => {
            request.session.data.via = 'string';
            return reply.type('text/plain').send('text');
          });
          server.get('/r/buffer', async (request, reply) => {
            request.session.data.via = 'buffer';
            return reply.type('application/octet-stream').send(Buffer.from('bytes'));
          });
          server.get('/r/stream', async (request, reply) => {
            request.session.data.via = 'stream';
            return reply.type('text/plain').send(stream());
          });
          server.get('/r/redirect', async (request, reply) => {
            request.session.data.via = 'redirect';
            return reply.redirect('/t/session');
          });
          server.get('/r/throws', async (request) => {
            request.session.data.via = 'throws';
            throw Object.assign(new Error('teapot'), { statusCode: 418 });
          });
          server.get('/r/from-hook', { onRequest: async (request, reply) => { request.session.data.via = 'from-hook'; await reply.code(204).send(); } }, async () => ({ never: true }));
        },
      },
    });
  });
  after(() => app.close());

  async function expectSaved(path: string, status: number, body?: string): Promise<Response> {
    const response = await fetch(app.url(path), { redirect: 'manual' });
    assert.equal(response.status, status, path);
    const cookie = cookieOf(response);
    assert.ok(cookie, `${path}: the cookie is on the reply`);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('vary') ?? '', /cookie/i);
    const text = await response.text();
    if (body !== undefined) assert.equal(text, body, path);
    assert.equal((await sessionState(app, cookie)).data.via, path.slice(3), `${path}: saved before the reply`);
    return response;
  }

  it('commits before strings, Buffers, streams, redirects, thrown errors and replies sent from a hook', async () => {
    await expectSaved('/r/string', 200, 'text');
    await expectSaved('/r/buffer', 200, 'bytes');
    await expectSaved('/r/stream', 200, 'streamed body');
    const redirect = await expectSaved('/r/redirect', 302);
    assert.equal(redirect.headers.get('location'), '/t/session');
    await expectSaved('/r/throws', 418);
    await expectSaved('/r/from-hook', 204);
  });

  it('lets hooks registered after the plugin use request.session', async () => {
    const response = await get(app.url('/r/hook-sees-session'));
    assert.deepEqual(await response.json(), { fromHook: true });
    assert.ok(cookieOf(response));
  });

  it('replaces the reply with 503 when the save fails, destroying a stream payload', async () => {
    destroyed.length = 0;
    app.writes.failure = storeOutage();
    try {
      for (const path of ['/r/stream', '/r/redirect', '/r/string']) {
        const response = await fetch(app.url(path), { redirect: 'manual' });
        assert.equal(response.status, 503, path);
        assert.equal(response.headers.get('retry-after'), '1');
        assert.equal(response.headers.get('location'), null);
        assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.equal(((await response.json()) as { code: string }).code, 'ERR_SESSION_STORE');
      }
    } finally {
      app.writes.failure = null;
    }
    assert.deepEqual(destroyed, [true], 'the unsent stream was destroyed');
    assert.equal(app.logged.length, 3);
    await expectSaved('/r/stream', 200, 'streamed body');
  });
});
