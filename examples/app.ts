/**
 * `npm start`: the seed's login / profile / logout example (plus a cart) on
 * uWebSockets.js. See examples/config.ts for the environment it reads.
 *
 *   curl -i -c jar -H 'content-type: application/json' -d '{"username":"ada","password":"rockstar"}' localhost:8080/login
 *   curl -b jar localhost:8080/profile
 *   curl -b jar -d productId=42 localhost:8080/cart/items
 *   curl -b jar localhost:8080/cart
 *   curl -b jar -c jar -X POST localhost:8080/logout
 */
import { createSessionManager, SessionError, type SessionManager } from '../src/index.ts';
import { EnvConfigError, sessionConfigFromEnv } from './config.ts';
import { ListenError } from './listen-error.ts';
import { startApp, type RunningApp, type ServerKind } from './server.ts';

/** How long a shutdown may take before we stop waiting for it. */
const SHUTDOWN_GRACE_MS = 5000;

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let env;
  try {
    env = sessionConfigFromEnv(process.env);
  } catch (error) {
    if (error instanceof EnvConfigError) fail(error.message);
    throw error;
  }
  for (const warning of env.warnings) {
    console.warn(`\n*** WARNING: ${warning}\n`);
  }
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number; received ${JSON.stringify(process.env.PORT)}`);
  const server: ServerKind = process.env.HTTP_SERVER === 'node' ? 'node' : 'uws';
  const trustedProxies = process.env.TRUSTED_PROXIES ? process.env.TRUSTED_PROXIES.split(',').map((s) => s.trim()) : [];

  let manager: SessionManager;
  try {
    manager = await createSessionManager(env.config);
  } catch (error) {
    // A store that cannot be used, an option refused: the message says which, and why.
    if (error instanceof SessionError) fail(`${error.code}: ${error.message}`);
    throw error;
  }
  let app: RunningApp;
  try {
    app = await startApp({ manager, port, host: process.env.HOST || '127.0.0.1', server, adapter: { trustedProxies }, trustedOrigins: env.trustedOrigins });
  } catch (error) {
    await manager.close().catch(() => {});
    if (error instanceof ListenError) fail(error.message);
    if (error instanceof SessionError) fail(`${error.code}: ${error.message}`); // e.g. a malformed TRUSTED_PROXIES entry
    throw error;
  }
  console.log(`rockstar-session example (${server}, ${env.config.storageType} store) listening on ${app.url}`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    setTimeout(() => {
      console.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    void (async () => {
      await app.close();
      await manager.close();
    })().then(
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

await main();
