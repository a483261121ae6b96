/**
 * Runs the example app in-process on port 0, on uWS or node:http, over any
 * store, and speaks to it over real HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { createSessionManager, type SessionConfig, type SessionManager, type StorageType } from '../../src/index.ts';
import type { AdapterOptions, RequestInfo } from '../../src/http/options.ts';
import { startApp, type RunningApp, type ServerKind } from '../../examples/server.ts';
import type { Route } from '../../examples/routes.ts';

export const SERVERS: readonly ServerKind[] = ['uws', 'node'];

/** Tags usernames with this run: the database store outlives a test run, and test files run concurrently. */
const RUN = randomBytes(4).toString('hex');

export function uniqueUsername(base: string, scope: string): string {
  return `${base}-${scope}-${RUN}`;
}
export const STORES: readonly StorageType[] = ['cache', 'filesystem', 'database'];

export interface StoreSetup {
  readonly config: Partial<SessionConfig>;
  cleanup(): Promise<void>;
}

/**
 * The manager options for one store type. The database store needs a
 * server: MYSQL_URL (a full `npm test` starts a local MariaDB and sets it when
 * MariaDB is installed). Returns a reason to skip when it is absent.
 */
export async function storeSetup(storageType: StorageType): Promise<StoreSetup | { skip: string }> {
  if (storageType === 'cache') return { config: { storageType }, cleanup: async () => {} };
  if (storageType === 'filesystem') {
    const dir = await mkdtemp(join(tmpdir(), 'rockstar-e2e-'));
    return { config: { storageType, filesystemPath: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const uri = process.env.MYSQL_URL;
  if (!uri) {
    // CI sets REQUIRE_MYSQL=1 (see scripts/run-tests.mjs): there, a missing database is a failure, not a skip.
    if (process.env.REQUIRE_MYSQL === '1') throw new Error('REQUIRE_MYSQL=1 but MYSQL_URL is not set: the database store cannot be tested');
    return { skip: 'MYSQL_URL is not set (no MySQL/MariaDB to test the database store against)' };
  }
  return { config: { storageType, database: { uri, table: 'rockstar_e2e_sessions' } }, cleanup: async () => {} };
}

export interface SuiteApp {
  /** The running app (only while the enclosing describe's tests run). */
  readonly app: TestApp;
  /** Why this store cannot be tested here (the database store without MYSQL_URL), or undefined. */
  readonly skip: string | undefined;
}

/** Starts the example app over one store before the enclosing describe's tests, and stops it and cleans the store after. */
export function appPerSuite(server: ServerKind, storageType: StorageType): SuiteApp {
  let app: TestApp | undefined;
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
    app = await startTestApp({ server, session: setup.config });
  });
  after(async () => {
    await app?.close();
    await store?.cleanup();
  });
  return {
    get app(): TestApp {
      if (!app) throw new Error(`the example app did not start on ${server} over the ${storageType} store`);
      return app;
    },
    get skip(): string | undefined {
      return skip;
    },
  };
}

export interface TestApp {
  readonly app: RunningApp;
  readonly manager: SessionManager;
  /** Failures the adapter logged (500s and failures after a response). */
  readonly logged: Array<{ error: unknown; request: RequestInfo }>;
  url(path: string): string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly server: ServerKind;
  readonly session?: Partial<SessionConfig>;
  readonly adapter?: AdapterOptions;
  readonly routes?: (manager: SessionManager) => Route[];
  /** Wraps the manager the app sees (to inject failures or delays). */
  readonly wrapManager?: (manager: SessionManager) => SessionManager;
  /** Other origins whose pages may post to the app. */
  readonly trustedOrigins?: readonly string[];
}

export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const manager = await createSessionManager({
    storageType: 'cache',
    encryptionKey: randomBytes(32),
    cleanupInterval: 0,
    // Plain http on 127.0.0.1, as in the example app.
    cookieSecure: false,
    ...options.session,
  });
  const logged: TestApp['logged'] = [];
  const seen = options.wrapManager ? options.wrapManager(manager) : manager;
  let app: RunningApp;
  try {
    app = await startApp({
      manager: seen,
      server: options.server,
      adapter: { onError: (error, request) => void logged.push({ error, request }), ...options.adapter },
      ...(options.routes ? { routes: options.routes(seen) } : {}),
      ...(options.trustedOrigins ? { trustedOrigins: options.trustedOrigins } : {}),
    });
  } catch (error) {
    await manager.close();
    throw error;
  }
  return {
    app,
    manager,
    logged,
    url: (path) => `${app.url}${path}`,
    async close() {
      await app.close();
      await manager.close();
    },
  };
}

/**
 * A manager whose listed methods are replaced; every other method runs on
 * the real manager (its #private fields need the real `this`).
 */
export function overrideManager(manager: SessionManager, overrides: Partial<Record<keyof SessionManager, (...args: never[]) => unknown>>): SessionManager {
  return new Proxy(manager, {
    get(target, property, receiver) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property as keyof SessionManager];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Our cookie as the browser keeps it after this response ("rockstar_session=…"): the last Set-Cookie of that
 * name with a value (clearing ones, with an empty value, come first when a response also sets a new one), or undefined.
 */
export function sessionCookie(response: Response, name = 'rockstar_session'): string | undefined {
  let found: string | undefined;
  for (const header of response.headers.getSetCookie()) {
    const pair = header.split(';')[0] ?? '';
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) found = pair;
  }
  return found;
}

export async function postJson(url: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

export async function login(app: Pick<TestApp, 'url'>, username = 'ada', headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(app.url('/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password: 'rockstar' }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const cookie = sessionCookie(response);
  if (!cookie) throw new Error('login set no session cookie');
  return cookie;
}

export async function getWithCookie(url: string, cookie: string | undefined): Promise<Response> {
  return fetch(url, { headers: cookie ? { cookie } : {} });
}

/** A response's JSON body, for reading fields in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function jsonOf(response: Response | Promise<Response>): Promise<any> {
  return (await response).json();
}
