/**
 * `npm run example:express`: the seed's complete example (login, profile,
 * logout) plus a cart, on Express 5 with rockstar-session/express. The same
 * routes and answers as the uWS app (`npm start`, examples/routes.ts), in
 * Express's idiom: `req.session`, saved for you before the response goes out.
 * The environment is the same too (examples/config.ts: SESSION_STORE,
 * SESSION_KEY, PORT, …).
 *
 *   curl -i -c jar -H 'content-type: application/json' -d '{"username":"ada","password":"rockstar"}' localhost:8080/login
 *   curl -b jar localhost:8080/profile
 *   curl -b jar -d productId=42 localhost:8080/cart/items
 *   curl -b jar -c jar -X POST localhost:8080/logout
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { sessionMiddleware, type SessionOptions } from '../src/http/express.ts';
import { decodeUtf8, parseForm } from '../src/http/body.ts';
import { HttpError } from '../src/http/http-error.ts';
import { createSessionManager, responseForError, SessionError, type SessionManager } from '../src/index.ts';
import { authenticateUser, isUsername } from './auth.ts';
import { EnvConfigError, sessionConfigFromEnv } from './config.ts';
import { ListenError } from './listen-error.ts';
import { cartKept, isGone, MAX_CART_ITEMS } from './routes.ts';
import { CROSS_ORIGIN_REFUSED, isSameOrigin } from './same-origin.ts';
import { NODE_TIMEOUTS } from './request-timeouts.ts';

const MAX_PRODUCT_ID = 64;

function isProductId(value: unknown): value is string | number {
  return (typeof value === 'string' && value.length > 0 && value.length <= MAX_PRODUCT_ID) || Number.isSafeInteger(value);
}

/** Express 4 ignores the promise an async handler returns: route its failures to the error handler instead. */
function route(handler: (req: Request, res: Response) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

/** The seed's authMiddleware: a live session, or 401. (Sliding expiry is the middleware's `rolling`, on by default.) */
const requireSession: RequestHandler = (req, res, next) => {
  if (req.session.isNew) res.status(401).json({ error: 'not authenticated' });
  else next();
};

/** The cross-site request check of the state-changing routes (see same-origin.ts): 403 before anything else runs. */
function sameOrigin(trustedOrigins: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    if (isSameOrigin((name) => req.get(name), trustedOrigins)) next();
    else res.status(403).json(CROSS_ORIGIN_REFUSED);
  };
}

/**
 * body-parser decodes leniently (a bad byte becomes U+FFFD, so two usernames
 * could read as one): its verify hook refuses what is not UTF-8 first, with
 * the 400 ERR_HTTP_BAD_BODY the other servers give.
 */
const strictJson = (_req: unknown, _res: unknown, body: Buffer): void => void decodeUtf8(body, 'text');
const strictForm = (_req: unknown, _res: unknown, body: Buffer): void => void parseForm(body);

/** Session and HTTP failures become their statuses (responseForError); body-parser's own 4xx errors keep theirs. */
const answerErrors: ErrorRequestHandler = (error: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) return next(error);
  const status = (error as { status?: unknown })?.status;
  if (!(error instanceof SessionError) && !(error instanceof HttpError) && typeof status === 'number' && status >= 400 && status < 500) {
    res.status(status).json({ error: (error as Error).message });
    return;
  }
  const response = responseForError(error);
  if (response.log) console.error('[example] request failed:', error);
  res.status(response.status).set(response.headers).json(response.body);
};

/** The Express module to build on: Express 5 by default; the tests pass Express 4 too. */
export type ExpressModule = typeof express;

export interface ExpressAppOptions {
  readonly express?: ExpressModule;
  readonly session?: SessionOptions;
  /** Mounted after the session middleware and before the example's routes (tests add routes this way). */
  readonly extraRoutes?: (app: Express) => void;
  /** Other origins whose pages may post to the app (see same-origin.ts). */
  readonly trustedOrigins?: readonly string[];
}

export function createExpressApp(manager: SessionManager, options: ExpressAppOptions = {}): Express {
  const framework = options.express ?? express;
  const app = framework();
  app.disable('x-powered-by');
  app.use(framework.json({ limit: '64kb', verify: strictJson }));
  app.use(framework.urlencoded({ extended: false, limit: '64kb', verify: strictForm }));
  app.use(sessionMiddleware(manager, options.session));
  options.extraRoutes?.(app);
  // Every route that changes state, the login included (login CSRF), refuses cross-site requests.
  const changesState = sameOrigin(new Set(options.trustedOrigins ?? []));

  app.post(
    '/login',
    changesState,
    route(async (req, res) => {
      const { username, password } = (req.body ?? {}) as Record<string, unknown>;
      if (!isUsername(username) || typeof password !== 'string') return res.status(400).json({ error: 'username and password are required' });
      const user = authenticateUser(username, password);
      if (!user) return res.status(401).json({ error: 'Invalid credentials' });
      const session = req.session;
      // Keep what a visitor gathered before logging in (their cart), unless it was someone else's session.
      if (session.data.user_id !== undefined && session.data.user_id !== user.id) await session.destroy();
      session.userId = user.id;
      Object.assign(session.data, { user_id: user.id, username: user.username, roles: user.roles, login_time: new Date() });
      // A fresh id at the privilege change: whoever knew the old id (session fixation) holds a dead one.
      try {
        await session.regenerate();
      } catch (error) {
        // Gone since it was read: a double-submitted form whose twin regenerated it first, or a logout in another
        // tab. No reason to refuse a correct password: go on in a new session (stored at the end of the request) holding the login
        // and the visitor's cart only: the old one may have been ended on purpose (cartKept in routes.ts).
        if (!isGone(error)) throw error;
        const kept = cartKept(session.data, { user_id: user.id, username: user.username, roles: user.roles, login_time: new Date() });
        await session.destroy();
        session.userId = user.id;
        Object.assign(session.data, kept);
      }
      return res.json({ message: 'Logged in successfully', user: { user_id: user.id, username: user.username, roles: user.roles } });
    }),
  );

  app.get('/profile', requireSession, (req, res) => {
    const { user_id, username, login_time } = req.session.data;
    res.json({ user_id, username, login_time });
  });

  app.post(
    '/cart/items',
    changesState,
    requireSession,
    route(async (req, res) => {
      const { productId } = (req.body ?? {}) as Record<string, unknown>;
      if (!isProductId(productId)) {
        return res.status(400).json({ error: `productId must be a non-empty string of at most ${MAX_PRODUCT_ID} characters, or an integer` });
      }
      // update() is an atomic read-modify-write in the store: concurrent additions to one cart all land
      // (two requests assigning session.data.cart would keep only the last one).
      const items = await req.session.update('cart', (current) => {
        const cart = Array.isArray(current) ? current : [];
        if (cart.length >= MAX_CART_ITEMS) throw new HttpError(409, 'ERR_HTTP_CLIENT', `the cart holds at most ${MAX_CART_ITEMS} items`);
        return [...cart, productId];
      });
      return res.json({ items });
    }),
  );

  app.get('/cart', requireSession, (req, res) => {
    const cart = req.session.data.cart;
    res.json({ items: Array.isArray(cart) ? cart : [] });
  });

  app.delete('/cart', changesState, requireSession, (req, res) => {
    delete req.session.data.cart; // saved before the response goes out
    res.json({ items: [] });
  });

  app.post(
    '/logout',
    changesState,
    requireSession,
    route(async (req, res) => {
      await req.session.destroy(); // removed from the store, cookie cleared
      return res.json({ message: 'Logged out successfully' });
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(answerErrors);
  return app;
}

export interface RunningExpressApp {
  readonly url: string;
  readonly server: Server;
  /** Stops listening and drops open connections. Does not close the manager. */
  close(): Promise<void>;
}

/** Listens on `port` (0: a free one), cutting slow requests as the uWS app does (NODE_TIMEOUTS); a failure is a ListenError. */
export function listen(app: Express, port = 0, host = '127.0.0.1'): Promise<RunningExpressApp> {
  return new Promise((resolve, reject) => {
    const server = createServer({ headersTimeout: NODE_TIMEOUTS.headersMs, requestTimeout: NODE_TIMEOUTS.requestMs, connectionsCheckingInterval: NODE_TIMEOUTS.checkEveryMs }, app);
    const failed = (error: NodeJS.ErrnoException): void => reject(new ListenError(host, port, error.code));
    server.once('error', failed);
    server.listen(port, host);
    server.once('listening', () => {
      server.off('error', failed);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
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
  let running: RunningExpressApp;
  try {
    running = await listen(createExpressApp(manager, { trustedOrigins: env.trustedOrigins }), port, process.env.HOST || '127.0.0.1');
  } catch (error) {
    await manager.close().catch(() => {});
    if (error instanceof ListenError) {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  console.log(`rockstar-session example (express, ${env.config.storageType} store) listening on ${running.url}`);
  const shutdown = (signal: string): void => {
    console.log(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), 5000).unref();
    void running
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
