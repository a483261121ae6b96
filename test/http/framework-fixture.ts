/**
 * Real Express 4, Express 5 and Fastify 5 servers on 127.0.0.1:0, running
 * the example apps (examples/express.ts, examples/fastify.ts) with our
 * middleware / plugin, over any store, plus a few test routes. The store's
 * writes are counted (and can be made to fail) at the manager's store, the
 * one place every write goes through.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import express4 from 'express4';
import type { Express, Request as ExpressRequest, Response as ExpressResponse } from 'express';
import type { FastifyInstance } from 'fastify';
import { createExpressApp, listen as listenExpress, type ExpressModule } from '../../examples/express.ts';
import { createFastifyApp, listen as listenFastify } from '../../examples/fastify.ts';
import type { SessionOptions } from '../../src/http/session-options.ts';
import type { RequestInfo } from '../../src/http/options.ts';
import { createSessionManager, SessionStoreError, type SessionConfig, type SessionContext, type SessionManager, type StorageType } from '../../src/index.ts';
import { storeSetup, type StoreSetup } from './app-fixture.ts';

export { STORES, uniqueUsername, sessionCookie, jsonOf } from './app-fixture.ts';

export type FrameworkKind = 'express4' | 'express5' | 'fastify';
export const EXPRESS_KINDS: readonly FrameworkKind[] = ['express4', 'express5'];

/** How many writes of each kind reached the manager's store. */
export class StoreWrites {
  insert = 0;
  update = 0;
  touch = 0;
  delete = 0;
  /** When set, every write rejects with it (a store outage). */
  failure: Error | null = null;

  get total(): number {
    return this.insert + this.update + this.touch + this.delete;
  }

  reset(): void {
    this.insert = this.update = this.touch = this.delete = 0;
  }

  /** Counts (and, when told to, fails) the writes of `manager.store`. */
  static watch(manager: SessionManager): StoreWrites {
    const writes = new StoreWrites();
    const store = manager.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const operation of ['insert', 'update', 'touch', 'delete'] as const) {
      const original = store[operation]!.bind(store);
      store[operation] = async (...args: unknown[]) => {
        writes[operation]++;
        if (writes.failure) throw writes.failure;
        return original(...args);
      };
    }
    return writes;
  }
}

export function storeOutage(): SessionStoreError {
  return new SessionStoreError('session store update failed: connect ECONNREFUSED 127.0.0.1:3306 (injected)');
}

export interface FrameworkApp {
  readonly kind: FrameworkKind;
  readonly manager: SessionManager;
  readonly writes: StoreWrites;
  /** What the session layer reported to onError. */
  readonly logged: Array<{ error: unknown; request: RequestInfo }>;
  url(path: string): string;
  close(): Promise<void>;
}

/** Test routes, written once per framework: the same paths and answers on each. */
export interface TestRoutes {
  readonly express?: (app: Express) => void;
  readonly fastify?: (app: FastifyInstance) => void;
}

export interface FrameworkAppOptions {
  readonly kind: FrameworkKind;
  readonly session?: Partial<SessionConfig>;
  readonly sessionOptions?: SessionOptions;
  readonly routes?: TestRoutes;
  /** Makes getSessionFromCookie reject with this while it returns non-null (a store that cannot be read). */
  readonly loadFailure?: () => Error | null;
  /** Wraps the manager the app sees (to inject delays). */
  readonly wrapManager?: (manager: SessionManager) => SessionManager;
  /** Other origins whose pages may post to the example's routes. */
  readonly trustedOrigins?: readonly string[];
}

function wrapLoads(manager: SessionManager, failure: () => Error | null): SessionManager {
  return new Proxy(manager, {
    get(target, property) {
      if (property === 'getSessionFromCookie') {
        return (ctx: SessionContext) => {
          const error = failure();
          return error ? Promise.reject(error) : target.getSessionFromCookie(ctx);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export async function startFrameworkApp(options: FrameworkAppOptions): Promise<FrameworkApp> {
  const manager = await createSessionManager({
    storageType: 'cache',
    encryptionKey: randomBytes(32),
    cleanupInterval: 0,
    cookieSecure: false, // plain http on 127.0.0.1
    ...options.session,
  });
  const writes = StoreWrites.watch(manager);
  const logged: FrameworkApp['logged'] = [];
  const loads = options.loadFailure ? wrapLoads(manager, options.loadFailure) : manager;
  const seen = options.wrapManager ? options.wrapManager(loads) : loads;
  const trustedOrigins = options.trustedOrigins ?? [];
  const sessionOptions: SessionOptions = { onError: (error, request) => void logged.push({ error, request }), ...options.sessionOptions };
  try {
    if (options.kind === 'fastify') {
      const app = await createFastifyApp(seen, { session: sessionOptions, trustedOrigins, extraRoutes: (fastify) => { addCommonFastifyRoutes(fastify); options.routes?.fastify?.(fastify); } });
      const base = await listenFastify(app);
      return { kind: options.kind, manager, writes, logged, url: (path) => `${base}${path}`, close: async () => { await app.close(); await manager.close(); } };
    }
    const framework = options.kind === 'express4' ? (express4 as unknown as ExpressModule) : undefined;
    const app = createExpressApp(seen, { ...(framework ? { express: framework } : {}), session: sessionOptions, trustedOrigins, extraRoutes: (expressApp) => { addCommonExpressRoutes(expressApp); options.routes?.express?.(expressApp); } });
    const running = await listenExpress(app);
    return { kind: options.kind, manager, writes, logged, url: (path) => `${running.url}${path}`, close: async () => { await running.close(); await manager.close(); } };
  } catch (error) {
    await manager.close();
    throw error;
  }
}

export interface SuiteFrameworkApp {
  readonly app: FrameworkApp;
  readonly skip: string | undefined;
}

/** Starts a framework app over one store for the enclosing describe, and stops it and cleans the store after. */
export function frameworkAppPerSuite(kind: FrameworkKind, storageType: StorageType, options: Omit<FrameworkAppOptions, 'kind'> = {}): SuiteFrameworkApp {
  let app: FrameworkApp | undefined;
  let store: StoreSetup | undefined;
  let skip: string | undefined;
  before(async () => {
    const setup = await storeSetup(storageType);
    if ('skip' in setup) {
      skip = setup.skip;
      console.log(`# skipping the ${storageType} store: ${skip}`);
      return;
    }
    store = setup;
    app = await startFrameworkApp({ ...options, kind, session: { ...setup.config, ...options.session } });
  });
  after(async () => {
    await app?.close();
    await store?.cleanup();
  });
  return {
    get app(): FrameworkApp {
      if (!app) throw new Error(`the ${kind} app did not start over the ${storageType} store`);
      return app;
    },
    get skip(): string | undefined {
      return skip;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The routes every suite uses, the same on each framework:
 *   GET  /t/session          {id, isNew, data}: reads, changes nothing
 *   POST /t/data             merges the JSON body into the data; {id, data}
 *   POST /t/data-later       {key, value, delayMs}: waits, then sets one key (for interleaved requests)
 *   POST /t/regenerate       merges the body, regenerates; {oldId, id}
 *   POST /t/destroy          destroys; {isNew}
 *   POST /t/destroy-and-restart  destroys, then merges the body into the fresh session
 *   POST /t/unstorable       puts a function in the data (the save refuses it)
 */
function addCommonExpressRoutes(app: Express): void {
  const guard = (handler: (req: ExpressRequest, res: ExpressResponse) => Promise<unknown>) => (req: ExpressRequest, res: ExpressResponse, next: (error?: unknown) => void) => void handler(req, res).catch(next);
  app.get('/t/session', (req, res) => {
    res.json({ id: req.session.id, isNew: req.session.isNew, data: req.session.data });
  });
  app.post('/t/data', (req, res) => {
    Object.assign(req.session.data, req.body);
    res.json({ id: req.session.id, data: req.session.data });
  });
  app.post(
    '/t/data-later',
    guard(async (req, res) => {
      const { key, value, delayMs } = req.body as { key: string; value: unknown; delayMs: number };
      await sleep(delayMs);
      req.session.data[key] = value;
      res.json({ ok: true });
    }),
  );
  app.post(
    '/t/regenerate',
    guard(async (req, res) => {
      const oldId = req.session.id;
      Object.assign(req.session.data, req.body);
      await req.session.regenerate();
      res.json({ oldId, id: req.session.id });
    }),
  );
  app.post(
    '/t/destroy',
    guard(async (req, res) => {
      await req.session.destroy();
      res.json({ isNew: req.session.isNew });
    }),
  );
  app.post('/t/unstorable', (req, res) => {
    req.session.data.callback = () => 1;
    res.json({ ok: true });
  });
  app.post(
    '/t/destroy-and-restart',
    guard(async (req, res) => {
      await req.session.destroy();
      Object.assign(req.session.data, req.body);
      res.json({ ok: true });
    }),
  );
}

function addCommonFastifyRoutes(app: FastifyInstance): void {
  app.get('/t/session', async (request) => ({ id: request.session.id, isNew: request.session.isNew, data: request.session.data }));
  app.post('/t/data', async (request) => {
    Object.assign(request.session.data, request.body);
    return { id: request.session.id, data: request.session.data };
  });
  app.post('/t/data-later', async (request) => {
    const { key, value, delayMs } = request.body as { key: string; value: unknown; delayMs: number };
    await sleep(delayMs);
    request.session.data[key] = value;
    return { ok: true };
  });
  app.post('/t/regenerate', async (request) => {
    const oldId = request.session.id;
    Object.assign(request.session.data, request.body);
    await request.session.regenerate();
    return { oldId, id: request.session.id };
  });
  app.post('/t/destroy', async (request) => {
    await request.session.destroy();
    return { isNew: request.session.isNew };
  });
  app.post('/t/unstorable', async (request) => {
    request.session.data.callback = () => 1;
    return { ok: true };
  });
  app.post('/t/destroy-and-restart', async (request) => {
    await request.session.destroy();
    Object.assign(request.session.data, request.body);
    return { ok: true };
  });
}

/** POST a JSON body, with a cookie when given. */
export function post(url: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
}

export function get(url: string, cookie?: string): Promise<Response> {
  return fetch(url, { headers: cookie ? { cookie } : {} });
}

/** The example app's login: resolves to the session cookie ("rockstar_session=…"). */
export async function loginTo(app: FrameworkApp, username = 'ada'): Promise<string> {
  const response = await post(app.url('/login'), { username, password: 'rockstar' });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${text}`);
  const cookie = cookieOf(response);
  if (!cookie) throw new Error('login set no session cookie');
  return cookie;
}

/** "rockstar_session=…" from a response's Set-Cookie, or undefined (an empty value, a clearing cookie, counts as none). */
export function cookieOf(response: Response, name = 'rockstar_session'): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const pair = header.split(';')[0] ?? '';
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) return pair;
  }
  return undefined;
}

/** True when the response tells the browser to drop the session cookie. */
export function clearsCookie(response: Response, name = 'rockstar_session'): boolean {
  return response.headers.getSetCookie().some((header) => header.startsWith(`${name}=;`) && /Max-Age=0/i.test(header));
}

/** GET /t/session's answer. */
export async function sessionState(app: FrameworkApp, cookie?: string): Promise<{ id: string | null; isNew: boolean; data: Record<string, unknown> }> {
  const response = await get(app.url('/t/session'), cookie);
  if (response.status !== 200) throw new Error(`GET /t/session answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string | null; isNew: boolean; data: Record<string, unknown> };
}
