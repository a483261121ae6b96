/**
 * The example app on every server it comes for: uWS and node:http
 * (examples/server.ts), Express 4 and 5 and Fastify (examples/express.ts,
 * examples/fastify.ts), behind one interface, for the tests of behaviour
 * they all must share (cross-site refusal, UTF-8 bodies, double-submitted
 * logins, slow clients).
 */
import type { RequestInfo } from '../../src/http/options.ts';
import type { SessionConfig, SessionManager } from '../../src/index.ts';
import { startTestApp } from './app-fixture.ts';
import { startFrameworkApp, type FrameworkKind } from './framework-fixture.ts';
import type { ServerKind } from '../../examples/server.ts';

export type ExampleServer = ServerKind | FrameworkKind;
export const EXAMPLE_SERVERS: readonly ExampleServer[] = ['uws', 'node', 'express4', 'express5', 'fastify'];

export interface ExampleApp {
  readonly server: ExampleServer;
  readonly port: number;
  readonly manager: SessionManager;
  readonly logged: Array<{ error: unknown; request: RequestInfo }>;
  url(path: string): string;
  close(): Promise<void>;
}

export interface ExampleOptions {
  readonly session?: Partial<SessionConfig>;
  readonly trustedOrigins?: readonly string[];
  readonly wrapManager?: (manager: SessionManager) => SessionManager;
}

export async function startExample(server: ExampleServer, options: ExampleOptions = {}): Promise<ExampleApp> {
  if (server === 'uws' || server === 'node') {
    const app = await startTestApp({ server, ...options });
    return { server, port: app.app.port, manager: app.manager, logged: app.logged, url: app.url, close: () => app.close() };
  }
  const app = await startFrameworkApp({ kind: server, ...options });
  return { server, port: Number(new URL(app.url('/')).port), manager: app.manager, logged: app.logged, url: app.url, close: () => app.close() };
}
