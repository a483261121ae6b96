// Run in the consumer project (with --enable-source-maps): create, save, load
// and read back through the cookie on the cache store, then report what came
// back, and where a config error's stack points.
import { randomBytes } from 'node:crypto';
import { createSessionManager, SessionConfigError } from 'rockstar-session';

const cookies = [];
const ctx = { appendSetCookie: (value) => cookies.push(value) };
const sessions = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32) });
const created = await sessions.create(ctx);
created.data.cart = ['sku-1', 'sku-2'];
created.data.since = new Date(1_700_000_000_000);
created.data.visits = 3n;
await sessions.save(ctx, created);
const loaded = await sessions.load(ctx, created.id);
const cookie = cookies.at(-1).split(';')[0];
const fromCookie = await sessions.getSessionFromCookie({ cookieHeader: cookie, appendSetCookie: () => {} });
await sessions.close();

let configError = null;
try {
  await createSessionManager({ storageType: 'cache', encryptionKey: new Uint8Array(3) });
} catch (error) {
  configError = { isSessionConfigError: error instanceof SessionConfigError, code: error.code, stack: error.stack };
}

process.stdout.write(
  JSON.stringify({
    sameId: loaded.id === created.id && fromCookie.id === created.id,
    cart: loaded.data.cart,
    since: loaded.data.since instanceof Date ? loaded.data.since.toISOString() : null,
    visits: typeof loaded.data.visits === 'bigint' ? String(loaded.data.visits) : null,
    cookieCart: fromCookie.data.cart,
    configError,
  }),
);
