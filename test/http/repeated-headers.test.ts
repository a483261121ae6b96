/**
 * A header sent on several lines reads the same on uWS as on node:http:
 * every line counts, joined as node's IncomingMessage.headers joins them
 * (Cookie with '; ', X-Forwarded-For and most others with ', ', and only the
 * first line of User-Agent, Content-Type, Referer and the other single-valued
 * headers). Behind a proxy that adds its own X-Forwarded-For line, the client
 * cannot choose the recorded address; a session cookie on a second Cookie
 * line is found.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticateUser } from '../../examples/auth.ts';
import type { ServerKind } from '../../examples/server.ts';
import type { HttpExchange } from '../../src/http/exchange.ts';
import { login, SERVERS, startTestApp, type TestApp } from './app-fixture.ts';
import { rawExchange, rawRequest } from './raw-http.ts';

const apps = new Map<ServerKind, TestApp>();

before(async () => {
  for (const server of SERVERS) {
    apps.set(
      server,
      await startTestApp({
        server,
        adapter: { trustedProxies: ['127.0.0.1'], headers: ['x-extra', 'referer', 'accept'] },
        routes: () => [
          { method: 'POST', path: '/echo-headers', handler: (exchange) => void exchange.json(200, echoed(exchange)) },
          // uWS copies a GET's headers on first use inside its callback, or when the handler goes on after it.
          { method: 'GET', path: '/echo-headers', handler: (exchange) => void exchange.json(200, echoed(exchange)) },
          {
            method: 'GET',
            path: '/echo-headers-later',
            handler: async (exchange) => {
              await new Promise((resolve) => setImmediate(resolve));
              exchange.json(200, echoed(exchange));
            },
          },
        ],
      }),
    );
  }
});
after(async () => {
  for (const app of apps.values()) await app.close();
});

const app = (server: ServerKind): TestApp => apps.get(server)!;

function echoed(exchange: HttpExchange): Record<string, string | null> {
  return {
    cookie: exchange.ctx.cookieHeader ?? null,
    userAgent: exchange.ctx.userAgent ?? null,
    contentType: exchange.header('content-type') ?? null,
    forwardedFor: exchange.header('x-forwarded-for') ?? null,
    ipAddress: exchange.ctx.ipAddress ?? null,
    extra: exchange.header('x-extra') ?? null,
    referer: exchange.header('referer') ?? null,
    accept: exchange.header('accept') ?? null,
  };
}

const REPEATED = rawRequest(
  'POST',
  '/echo-headers',
  [
    ['Cookie', 'theme=dark'],
    ['User-Agent', 'first-agent/1'],
    ['X-Forwarded-For', '1.1.1.1'], // what the client wrote
    ['Content-Type', 'application/json'],
    ['X-Extra', 'one'],
    ['cookie', 'lang=en; seen=1'],
    ['Referer', 'https://first.example/'],
    ['X-Forwarded-For', '203.0.113.7'], // what our proxy added
    ['User-Agent', 'second-agent/2'],
    ['Content-Type', 'text/plain'],
    ['X-EXTRA', 'two'],
    ['Referer', 'https://second.example/'],
    ['Accept', ''], // an empty line still counts, as in node
    ['Accept', 'text/html'],
  ],
  '{}',
);

const EXPECTED = {
  cookie: 'theme=dark; lang=en; seen=1',
  userAgent: 'first-agent/1',
  contentType: 'application/json',
  forwardedFor: '1.1.1.1, 203.0.113.7',
  ipAddress: '203.0.113.7',
  extra: 'one, two',
  referer: 'https://first.example/',
  accept: ', text/html',
};

for (const server of SERVERS) {
  describe(`repeated header lines on ${server}`, () => {
    it('joins them as node:http does: cookie with "; ", others with ", ", single-valued ones keep the first', async () => {
      const [response] = await rawExchange(app(server).app.port, REPEATED);
      assert.equal(response?.status, 200);
      assert.deepEqual(response?.json(), EXPECTED);
    });

    it('records the address our proxy appended, not the one the client wrote on its own X-Forwarded-For line', async () => {
      const username = `xff-${server}`;
      const [response] = await rawExchange(
        app(server).app.port,
        rawRequest(
          'POST',
          '/login',
          [
            ['Content-Type', 'application/json'],
            ['X-Forwarded-For', '198.51.100.66'],
            ['X-Forwarded-For', '203.0.113.9'],
          ],
          JSON.stringify({ username, password: 'rockstar' }),
        ),
      );
      assert.equal(response?.status, 200);
      const [session] = await app(server).manager.listForUser(authenticateUser(username, 'rockstar')!.id);
      assert.equal(session?.ipAddress, '203.0.113.9');
    });

    it('reads them alike in a GET handler that answers at once and in one that answers later', async () => {
      for (const path of ['/echo-headers', '/echo-headers-later']) {
        const [response] = await rawExchange(app(server).app.port, REPEATED.replace('POST /echo-headers', `GET ${path}`));
        assert.equal(response?.status, 200, path);
        assert.deepEqual(response?.json(), EXPECTED, path);
      }
    });

    it('finds the session cookie on a second Cookie line, the first time and from memory after', async () => {
      const cookie = await login(app(server), `second-line-${server}`);
      for (let i = 0; i < 2; i++) {
        const [response] = await rawExchange(app(server).app.port, rawRequest('GET', '/profile', [['Cookie', 'theme=dark'], ['Cookie', cookie]]));
        assert.equal(response?.status, 200);
        assert.equal((response?.json() as { username: string }).username, `second-line-${server}`);
      }
    });

    it('answers for the live session cookie that comes first, as the joined header orders them', async () => {
      const first = await login(app(server), `first-${server}`);
      const second = await login(app(server), `second-${server}`);
      for (const [one, two, expected] of [[first, second, `first-${server}`], [second, first, `second-${server}`]] as const) {
        for (let i = 0; i < 2; i++) {
          const [response] = await rawExchange(app(server).app.port, rawRequest('GET', '/profile', [['Cookie', one], ['Cookie', two]]));
          assert.equal((response?.json() as { username: string }).username, expected);
        }
      }
    });
  });
}

it('gives the same headers on uWS and node:http for the same repeated lines', async () => {
  const [onUws] = await rawExchange(app('uws').app.port, REPEATED);
  const [onNode] = await rawExchange(app('node').app.port, REPEATED);
  assert.deepEqual(onUws?.json(), onNode?.json());
});
