/**
 * The TypeScript sources of the packaging test's consumer project, and the
 * compiler settings it is checked under. They are strings, not files, because
 * the repository's own `tsc --noEmit` covers test/: it must not see a
 * consumer's `declare module 'rockstar-session'` or resolve the package
 * against a dist/ that may not exist yet.
 *
 * Every `@ts-expect-error` is a proof: the check fails if the mistake it marks
 * compiles. `notAny` lines fail if a type silently became `any` (what an
 * unresolved import in a declaration file turns into under skipLibCheck).
 */

const IS_ANY = 'type IsAny<T> = 0 extends 1 & T ? true : false;';

/** Typed by a type argument. */
const TYPE_ARGUMENT = `
import { createSessionManager, SessionError, type Session, type SessionManager } from 'rockstar-session';
${IS_ANY}

interface AppData {
  user_id: string;
  cart: string[];
  visits: number;
}

export async function withTypeArgument(): Promise<void> {
  const sessions: SessionManager<AppData> = await createSessionManager<AppData>({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const ctx = { appendSetCookie: (_value: string) => {} };
  const session: Session<AppData> = await sessions.create(ctx);
  const cart: string[] | undefined = session.data.cart;
  const notAny: IsAny<typeof session.data.cart> = false;
  session.data.visits = (session.data.visits ?? 0) + 1;
  // @ts-expect-error an unknown key
  session.data.crt = ['sku-1'];
  // @ts-expect-error a value of the wrong type
  session.data.visits = 'many';
  const userId: string = await sessions.get(session.id, 'user_id');
  // @ts-expect-error get of an unknown key
  await sessions.get(session.id, 'userid');
  // @ts-expect-error set with a value of the wrong type
  await sessions.set(session.id, 'cart', 'sku-1');
  const next: string[] | undefined = await sessions.update(session.id, 'cart', (current) => [...(current ?? []), 'sku-2']);
  const isError: boolean = new Error() instanceof SessionError;
  void [cart, notAny, userId, next, isError];
}
`;

/** Typed for every manager by declaration merging (it also types the default Session). */
const DECLARATION_MERGING = `
import { createSessionManager, type Session } from 'rockstar-session';
${IS_ANY}

declare module 'rockstar-session' {
  interface SessionData {
    user_id: string;
    cart: string[];
  }
}

export async function withDeclarationMerging(): Promise<void> {
  const sessions = await createSessionManager({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const session: Session = await sessions.create({ appendSetCookie: () => {} });
  session.data.cart = ['sku-1'];
  const cart: string[] | undefined = session.data.cart;
  const notAny: IsAny<typeof session.data.user_id> = false;
  // @ts-expect-error an unknown key
  session.data.crt = ['sku-1'];
  // @ts-expect-error a value of the wrong type
  session.data.user_id = 42;
  // @ts-expect-error get of an unknown key
  await sessions.get(session.id, 'userid');
  void [cart, notAny];
}
`;

/** The node:http adapter's types. */
const NODE_ADAPTER = `
import { createServer } from 'node:http';
import { nodeHandler, nodeSessionContext, type HttpExchange } from 'rockstar-session/node';

export function serve(): void {
  createServer(nodeHandler(async (ex: HttpExchange) => {
    ex.json(200, { path: ex.path });
  }));
  createServer((req, res) => {
    const ctx = nodeSessionContext(req, res);
    ctx.appendSetCookie('a=b');
  });
  // @ts-expect-error the handler receives an exchange, which has no writeHead
  nodeHandler(async (ex) => ex.writeHead(200));
}
`;

/** A CommonJS consumer: \`import x = require()\` of an ES module type-checks from TypeScript 5.8 on, under module nodenext. */
const COMMONJS = `
import rockstar = require('rockstar-session');

export async function fromCommonJs(): Promise<void> {
  const sessions = await rockstar.createSessionManager<{ cart: string[] }>({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const session = await sessions.create({ appendSetCookie: () => {} });
  session.data.cart = ['sku-1'];
  // @ts-expect-error an unknown key
  session.data.crt = [];
}
`;

/** The uWS adapter's types: checked only with uWebSockets.js installed, as its declarations import uWS's. */
const UWS_ADAPTER = `
import { uwsHandler, type HttpExchange } from 'rockstar-session/uws';
${IS_ANY}

const handler = uwsHandler(async (ex: HttpExchange) => {
  ex.json(200, { path: ex.path });
});
const notAny: IsAny<Parameters<typeof handler>[0]> = false;
// @ts-expect-error the handler receives an exchange, which has no writeStatus (that is uWS's response)
uwsHandler(async (ex) => ex.writeStatus('200 OK'));
void notAny;
`;

/** The Fastify plugin's types: checked only with fastify installed, as its declarations augment fastify's. */
const FASTIFY_PLUGIN = `
import Fastify from 'fastify';
import { createSessionManager } from 'rockstar-session';
import { sessionPlugin } from 'rockstar-session/fastify';

declare module 'rockstar-session' {
  interface SessionData { user_id: string; cart: string[] }
}

export async function app(): Promise<void> {
  const manager = await createSessionManager({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const fastify = Fastify();
  await fastify.register(sessionPlugin, { manager });
  fastify.get('/cart', async (request) => {
    const cart: string[] | undefined = request.session.data.cart;
    // @ts-expect-error request.session.data is typed: no such key
    request.session.data.crt = [];
    return { cart };
  });
}
`;

/** Imports every entry point named (the ones in package.json's exports that need no optional peer): each must resolve with its types. */
export function everyEntrySource(specifiers: readonly string[]): string {
  return specifiers.map((specifier, index) => `export * as entry${index} from '${specifier}';\n`).join('');
}

export const CONSUMER_SOURCES: Readonly<Record<string, string>> = {
  'type-argument.ts': TYPE_ARGUMENT,
  'declaration-merging.ts': DECLARATION_MERGING,
  'node-adapter.ts': NODE_ADAPTER,
  'commonjs.cts': COMMONJS,
  'uws-adapter.ts': UWS_ADAPTER,
  'fastify-plugin.ts': FASTIFY_PLUGIN,
};

export type Resolution = 'node16' | 'nodenext' | 'bundler';

export interface TypeCheck {
  /** Which compiler: the repository's own, or the oldest the declarations support (OLDEST_TYPESCRIPT, 5.0). */
  readonly compiler: 'current' | 'oldest';
  readonly resolution: Resolution;
  /** False in one run per compiler: our declarations (and what they import) are checked too. */
  readonly skipLibCheck: boolean;
  readonly files: readonly string[];
}

/** every-entry.ts is written by the test from package.json's exports (everyEntrySource). */
const ESM_FILES = ['every-entry.ts', 'type-argument.ts', 'declaration-merging.ts', 'node-adapter.ts'];

/** Without uWebSockets.js installed: the package root and the node adapter, both ways of typing data. */
export const TYPE_CHECKS: readonly TypeCheck[] = [
  { compiler: 'current', resolution: 'node16', skipLibCheck: true, files: ESM_FILES },
  { compiler: 'current', resolution: 'nodenext', skipLibCheck: false, files: [...ESM_FILES, 'commonjs.cts'] },
  { compiler: 'current', resolution: 'bundler', skipLibCheck: true, files: ESM_FILES },
  { compiler: 'oldest', resolution: 'node16', skipLibCheck: false, files: ESM_FILES },
  { compiler: 'oldest', resolution: 'nodenext', skipLibCheck: true, files: ESM_FILES },
  { compiler: 'oldest', resolution: 'bundler', skipLibCheck: true, files: ESM_FILES },
];

/** With uWebSockets.js installed. */
export const UWS_TYPE_CHECKS: readonly TypeCheck[] = [
  { compiler: 'current', resolution: 'nodenext', skipLibCheck: true, files: ['uws-adapter.ts'] },
  { compiler: 'oldest', resolution: 'node16', skipLibCheck: true, files: ['uws-adapter.ts'] },
];

/** With fastify installed. */
export const FASTIFY_TYPE_CHECKS: readonly TypeCheck[] = [
  { compiler: 'current', resolution: 'nodenext', skipLibCheck: false, files: ['fastify-plugin.ts'] },
  { compiler: 'oldest', resolution: 'node16', skipLibCheck: true, files: ['fastify-plugin.ts'] },
];

/** The tsconfig.json of one check. */
export function tsconfigFor(check: TypeCheck): object {
  const module = check.resolution === 'bundler' ? 'esnext' : check.resolution;
  return {
    compilerOptions: {
      target: 'es2022',
      lib: ['es2023'],
      module,
      moduleResolution: check.resolution,
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: check.skipLibCheck,
    },
    files: check.files,
  };
}
