/**
 * Starts the example app on uWebSockets.js (the default) or node:http.
 * A function, so tests and the load test can run it in-process on port 0.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import uWS from 'uWebSockets.js';
import type { ExchangeHandler } from '../src/http/exchange.ts';
import { nodeHandler } from '../src/http/node.ts';
import type { AdapterOptions } from '../src/http/options.ts';
import { uwsHandler } from '../src/http/uws.ts';
import type { SessionManager } from '../src/index.ts';
import { ListenError, probeListenFailure } from './listen-error.ts';
import { NODE_TIMEOUTS, type NodeTimeouts } from './request-timeouts.ts';
import { appRoutes, type Route } from './routes.ts';

export type ServerKind = 'uws' | 'node';

export interface StartOptions {
  readonly manager: SessionManager;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1: the demo's cookie is not Secure, so keep it off the network unless asked. */
  readonly host?: string;
  readonly server?: ServerKind;
  readonly adapter?: AdapterOptions;
  /** Replace or add routes (tests mount slow or failing handlers this way). */
  readonly routes?: readonly Route[];
  /** Other origins whose pages may post to the app (see same-origin.ts). */
  readonly trustedOrigins?: readonly string[];
  /** node:http only: how long a client may take to send a request (uWS has its own, fixed rule: see below). */
  readonly nodeTimeouts?: Partial<NodeTimeouts>;
}


export interface RunningApp {
  readonly port: number;
  readonly url: string;
  readonly server: ServerKind;
  /** Stops listening and drops open connections. Does not close the manager (its owner does). */
  close(): Promise<void>;
}

const notFound: ExchangeHandler = (exchange) => {
  exchange.json(404, { error: 'not found' });
};

export async function startApp(options: StartOptions): Promise<RunningApp> {
  const routes = [...(options.routes ?? []), ...appRoutes(options.manager, { trustedOrigins: options.trustedOrigins ?? [] })];
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (options.server === 'node') return startNode(routes, host, port, options.adapter, { ...NODE_TIMEOUTS, ...options.nodeTimeouts });
  return startUws(routes, host, port, options.adapter);
}

function startUws(routes: readonly Route[], host: string, port: number, adapter: AdapterOptions | undefined): Promise<RunningApp> {
  const app = uWS.App();
  for (const route of routes) {
    const handler = uwsHandler(route.handler, withHeaders(adapter, route.headers));
    if (route.method === 'GET') app.get(route.path, handler);
    else if (route.method === 'POST') app.post(route.path, handler);
    else app.del(route.path, handler);
  }
  app.any('/*', uwsHandler(notFound, adapter));
  return new Promise((resolve, reject) => {
    // Exclusive: by default uWS sets SO_REUSEPORT, so a second copy of the app on a port in use would
    // start without a word and quietly take half of the first one's connections.
    listenExclusive(app, host, port, (listenSocket) => {
      if (!listenSocket) {
        void probeListenFailure(host, port).then((code) => reject(new ListenError(host, port, code)));
        return;
      }
      const bound = uWS.us_socket_local_port(listenSocket);
      let closed = false;
      resolve({
        port: bound,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
        server: 'uws',
        async close() {
          if (closed) return;
          closed = true;
          uWS.us_listen_socket_close(listenSocket);
          // Also ends keep-alive connections, so the process can exit.
          app.close();
        },
      });
    });
  });
}

/** uWS.ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT (exported at run time as uWS.LIBUS_LISTEN_EXCLUSIVE_PORT). */
const EXCLUSIVE_PORT = 1;

/** app.listen(host, port, options, cb): accepted by uWS.js (it reads the numbers between host and callback), missing from its types. */
function listenExclusive(app: uWS.TemplatedApp, host: string, port: number, callback: (listenSocket: uWS.us_listen_socket | false) => void): void {
  const listen = app.listen as unknown as (host: string, port: number, options: number, cb: typeof callback) => uWS.TemplatedApp;
  listen.call(app, host, port, EXCLUSIVE_PORT, callback);
}

/** The adapter options, also copying the headers a route reads. */
function withHeaders(adapter: AdapterOptions | undefined, headers: readonly string[] | undefined): AdapterOptions | undefined {
  if (headers === undefined || headers.length === 0) return adapter;
  return { ...adapter, headers: [...new Set([...(adapter?.headers ?? []), ...headers])] };
}

function startNode(routes: readonly Route[], host: string, port: number, adapter: AdapterOptions | undefined, timeouts: NodeTimeouts): Promise<RunningApp> {
  const table = new Map<string, ReturnType<typeof nodeHandler>>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (!table.has(key)) table.set(key, nodeHandler(route.handler, adapter));
  }
  const fallback = nodeHandler(notFound, adapter);
  const serverOptions = { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkEveryMs };
  const server = createServer(serverOptions, (req, res) => {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const listener = table.get(`${req.method} ${mark === -1 ? url : url.slice(0, mark)}`) ?? fallback;
    listener(req, res);
  });
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => reject(new ListenError(host, port, error.code));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        port: bound,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
        server: 'node',
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
