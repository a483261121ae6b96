/**
 * Who the HTTP case loads: two ceilings (uWS with no session engine), our
 * example app on uWS and node:http, our Express and Fastify integrations,
 * and the peers' servers (bench/servers/*), each in its own process.
 */
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Mix = 'read' | 'cart' | 'login';

export const MIXES: readonly { readonly id: Mix; readonly title: string }[] = [
  { id: 'read', title: 'read: GET /profile with a valid cookie' },
  { id: 'cart', title: 'cart write: POST /cart/items with the login cookie (every 10th request of a session: DELETE /cart)' },
  { id: 'login', title: 'login: POST /login (new session + Set-Cookie per request)' },
];

export interface Contender {
  readonly id: string;
  readonly label: string;
  readonly ours: boolean;
  /** A ceiling answers the read mix only: the same response (or a bare one) without a session engine. */
  readonly ceiling?: 'same-json' | 'hello';
  /** Files (from the repository root) that must exist for this contender to run, and what brings them. */
  readonly needs: readonly string[];
  readonly needsWhy?: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

function server(file: string): string[] {
  return ['--import', 'tsx', fileURLToPath(new URL(`../servers/${file}`, import.meta.url))];
}

function exampleApp(): string[] {
  return ['--import', 'tsx', `${ROOT}/examples/app.ts`];
}

/** The example app as `npm start` runs it, on the cache store, with a fixed key (the bench measures speed, not key handling). */
function exampleEnv(server: 'uws' | 'node'): NodeJS.ProcessEnv {
  return { PORT: '0', HOST: '127.0.0.1', HTTP_SERVER: server, SESSION_STORE: 'cache', SESSION_KEY: Buffer.alloc(32, 7).toString('base64') };
}

export const CONTENDERS: readonly Contender[] = [
  { id: 'uws-json', label: "uWS answering /profile's JSON from a constant (ceiling)", ours: false, ceiling: 'same-json', needs: [], args: server('uws-json.ts') },
  { id: 'uws-hello', label: 'uWS hello world', ours: false, ceiling: 'hello', needs: [], args: server('uws-hello.ts') },
  { id: 'ours-uws', label: 'ours on uWS (example app, cache store)', ours: true, needs: ['examples/app.ts', 'src/http/uws.ts'], needsWhy: 'the uWS adapter', args: exampleApp(), env: exampleEnv('uws') },
  { id: 'ours-node', label: 'ours on node:http (example app, cache store)', ours: true, needs: ['examples/app.ts', 'src/http/node.ts'], needsWhy: 'the node:http adapter', args: exampleApp(), env: exampleEnv('node') },
  { id: 'express-ours', label: 'express + our middleware (cache store)', ours: true, needs: ['bench/servers/express-ours.ts'], needsWhy: 'the Express integration (issue 11)', args: server('express-ours.ts') },
  { id: 'fastify-ours', label: 'fastify + our plugin (cache store)', ours: true, needs: ['bench/servers/fastify-ours.ts'], needsWhy: 'the Fastify integration (issue 11)', args: server('fastify-ours.ts') },
  { id: 'fastify-secure-session', label: 'fastify + @fastify/secure-session', ours: false, needs: [], args: server('fastify-secure-session.ts') },
  { id: 'fastify-session', label: 'fastify + @fastify/session (memory)', ours: false, needs: [], args: server('fastify-session.ts') },
  { id: 'express-session', label: 'express + express-session (MemoryStore)', ours: false, needs: [], args: server('express-session.ts') },
  {
    id: 'express-session-file',
    label: 'express + express-session (session-file-store)',
    ours: false,
    needs: ['bench/servers/express-session-file.ts'],
    needsWhy: 'the session-file-store server (issue 11)',
    args: server('express-session-file.ts'),
  },
];

export function mixesOf(contender: Contender): readonly Mix[] {
  return contender.ceiling ? ['read'] : ['read', 'cart', 'login'];
}

export function measurementId(mix: Mix | 'cookie', contenderId: string): string {
  return `http.${mix}.${contenderId}`;
}
