/**
 * `npm run example:fastify`: the seed's complete example (login, profile,
 * logout) plus a cart, on Fastify 5 with rockstar-session/fastify. The same
 * routes and answers as the uWS app (`npm start`, examples/routes.ts), in
 * Fastify's idiom: `request.session`, saved for you before the reply goes
 * out. The environment is the same too (examples/config.ts).
 *
 *   curl -i -c jar -H 'content-type: application/json' -d '{"username":"ada","password":"rockstar"}' localhost:8080/login
 *   curl -b jar localhost:8080/profile
 *   curl -b jar -d productId=42 localhost:8080/cart/items
 *   curl -b jar -c jar -X POST localhost:8080/logout
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { sessionPlugin, type SessionOptions } from '../src/http/fastify.ts';
import { decodeUtf8, parseForm } from '../src/http/body.ts';
import { HttpError } from '../src/http/http-error.ts';
import { createSessionManager, responseForError, SessionError, type SessionManager } from '../src/index.ts';
import { authenticateUser, isUsername } from './auth.ts';
import { EnvConfigError, sessionConfigFromEnv } from './config.ts';
import { ListenError } from './listen-error.ts';
import { NODE_TIMEOUTS } from './request-timeouts.ts';
import { cartKept, isGone, MAX_CART_ITEMS } from './routes.ts';
import { CROSS_ORIGIN_REFUSED, isSameOrigin } from './same-origin.ts';

const MAX_PRODUCT_ID = 64;
const MAX_BODY_BYTES = 64 * 1024;

function isProductId(value: unknown): value is string | number {
  return (typeof value === 'string' && value.length > 0 && value.length <= MAX_PRODUCT_ID) || Number.isSafeInteger(value);
}

/** The seed's authMiddleware: a live session, or 401. (Sliding expiry is the plugin's `rolling`, on by default.) */
async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.session.isNew) await reply.code(401).send({ error: 'not authenticated' });
}

/** The cross-site request check of the state-changing routes (see same-origin.ts): an onRequest hook, so 403 comes before the body is even parsed. */
function sameOrigin(trustedOrigins: ReadonlySet<string>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (!isSameOrigin(header, trustedOrigins)) await reply.code(403).send(CROSS_ORIGIN_REFUSED);
  };
}

export interface FastifyAppOptions {
  readonly session?: SessionOptions;
  /** Registered after the session plugin and before the example's routes (tests add routes this way). */
  readonly extraRoutes?: (app: FastifyInstance) => void;
  /** Other origins whose pages may post to the app (see same-origin.ts). */
  readonly trustedOrigins?: readonly string[];
}

export async function createFastifyApp(manager: SessionManager, options: FastifyAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    // Slow clients are cut as on the uWS app (Fastify's own requestTimeout default, 0, waits forever).
    requestTimeout: NODE_TIMEOUTS.requestMs,
    http: { headersTimeout: NODE_TIMEOUTS.headersMs, connectionsCheckingInterval: NODE_TIMEOUTS.checkEveryMs },
  });
  // Bodies must be UTF-8: Fastify (like URLSearchParams) would turn a bad byte into U+FFFD, so two usernames could
  // read as one. Forms are parsed strictly (parseForm); JSON is decoded strictly, then parsed by Fastify's own parser
  // (which keeps its __proto__ / constructor poisoning checks).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseForm(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  const parseJsonText = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer, 'text');
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJsonText(request, text, done);
  });
  await app.register(sessionPlugin, { manager, ...options.session });

  // Session and HTTP failures become their statuses (responseForError); Fastify's own 4xx (bad JSON, 415) keep theirs.
  app.setErrorHandler((error: unknown, _request, reply) => {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (!(error instanceof SessionError) && !(error instanceof HttpError) && typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ error: (error as Error).message });
    }
    const response = responseForError(error);
    if (response.log) console.error('[example] request failed:', error);
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));
  options.extraRoutes?.(app);
  // Every route that changes state, the login included (login CSRF), refuses cross-site requests.
  const changesState = sameOrigin(new Set(options.trustedOrigins ?? []));

  app.post('/login', { onRequest: changesState }, async (request, reply) => {
    const { username, password } = (request.body ?? {}) as Record<string, unknown>;
    if (!isUsername(username) || typeof password !== 'string') return reply.code(400).send({ error: 'username and password are required' });
    const user = authenticateUser(username, password);
    if (!user) return reply.code(401).send({ error: 'Invalid credentials' });
    const session = request.session;
    // Keep what a visitor gathered before logging in (their cart), unless it was someone else's session.
    if (session.data.user_id !== undefined && session.data.user_id !== user.id) await session.destroy();
    session.userId = user.id;
    Object.assign(session.data, { user_id: user.id, username: user.username, roles: user.roles, login_time: new Date() });
    // A fresh id at the privilege change: whoever knew the old id (session fixation) holds a dead one.
    try {
      await session.regenerate();
    } catch (error) {
      // Gone since it was read: a double-submitted form whose twin regenerated it first, or a logout in another
      // tab. No reason to refuse a correct password: go on in a new session (stored before the reply) holding the login
      // and the visitor's cart only: the old one may have been ended on purpose (cartKept in routes.ts).
      if (!isGone(error)) throw error;
      const kept = cartKept(session.data, { user_id: user.id, username: user.username, roles: user.roles, login_time: new Date() });
      await session.destroy();
      session.userId = user.id;
      Object.assign(session.data, kept);
    }
    return { message: 'Logged in successfully', user: { user_id: user.id, username: user.username, roles: user.roles } };
  });

  app.get('/profile', { preHandler: requireSession }, async (request) => {
    const { user_id, username, login_time } = request.session.data;
    return { user_id, username, login_time };
  });

  app.post('/cart/items', { onRequest: changesState, preHandler: requireSession }, async (request, reply) => {
    const { productId } = (request.body ?? {}) as Record<string, unknown>;
    if (!isProductId(productId)) {
      return reply.code(400).send({ error: `productId must be a non-empty string of at most ${MAX_PRODUCT_ID} characters, or an integer` });
    }
    // update() is an atomic read-modify-write in the store: concurrent additions to one cart all land.
    const items = await request.session.update('cart', (current) => {
      const cart = Array.isArray(current) ? current : [];
      if (cart.length >= MAX_CART_ITEMS) throw new HttpError(409, 'ERR_HTTP_CLIENT', `the cart holds at most ${MAX_CART_ITEMS} items`);
      return [...cart, productId];
    });
    return { items };
  });

  app.get('/cart', { preHandler: requireSession }, async (request) => {
    const cart = request.session.data.cart;
    return { items: Array.isArray(cart) ? cart : [] };
  });

  app.delete('/cart', { onRequest: changesState, preHandler: requireSession }, async (request) => {
    delete request.session.data.cart; // saved before the reply goes out
    return { items: [] };
  });

  app.post('/logout', { onRequest: changesState, preHandler: requireSession }, async (request) => {
    await request.session.destroy(); // removed from the store, cookie cleared
    return { message: 'Logged out successfully' };
  });

  return app;
}

/** Listens on `port` (0: a free one) and resolves to the app's base URL; a failure is a ListenError. */
export async function listen(app: FastifyInstance, port = 0, host = '127.0.0.1'): Promise<string> {
  try {
    await app.listen({ port, host });
  } catch (error) {
    throw new ListenError(host, port, (error as NodeJS.ErrnoException).code);
  }
  const bound = (app.server.address() as AddressInfo).port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
}

async function main(): Promise<void> {
  let env;
  try {
    env = sessionConfigFromEnv(process.env);
  } catch (error) {
    if (error instanceof EnvConfigError) {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  for (const warning of env.warnings) console.warn(`\n*** WARNING: ${warning}\n`);
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`error: PORT must be a port number; received ${JSON.stringify(process.env.PORT)}`);
    process.exit(1);
  }
  const manager = await createSessionManager(env.config);
  const app = await createFastifyApp(manager, { trustedOrigins: env.trustedOrigins });
  let url: string;
  try {
    url = await listen(app, port, process.env.HOST || '127.0.0.1');
  } catch (error) {
    await manager.close().catch(() => {});
    if (error instanceof ListenError) {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  console.log(`rockstar-session example (fastify, ${env.config.storageType} store) listening on ${url}`);
  const shutdown = (signal: string): void => {
    console.log(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), 5000).unref();
    void app
      .close()
      .then(() => manager.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('shutdown failed:', error);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
