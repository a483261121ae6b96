// Run in the consumer project: one manager writes a session to the
// filesystem store (argv[2]) and closes; a second one, with an empty cache,
// reads it back through the cookie. Both seal and open in the crypto worker
// pool ('pool' mode), i.e. in the package's compiled dist/crypto/worker.js.
// Reports the data, the pool failures reported to onError (a worker that
// cannot load is one), and how many worker threads were alive during the load.
import { randomBytes } from 'node:crypto';
import { createSessionManager } from 'rockstar-session';

const filesystemPath = process.argv[2];
const encryptionKey = randomBytes(32);
const poolErrors = [];
const config = {
  storageType: 'filesystem',
  filesystemPath,
  encryptionKey,
  crypto: { mode: 'pool', threads: 1 },
  onError: (error) => poolErrors.push(String(error?.cause?.message ?? error?.message ?? error)),
};

const cookies = [];
const writer = await createSessionManager(config);
const created = await writer.create({ appendSetCookie: (value) => cookies.push(value) });
created.data.cart = ['sku-pool'];
await writer.save({ appendSetCookie: (value) => cookies.push(value) }, created);
await writer.close();

const reader = await createSessionManager(config);
const loaded = await reader.getSessionFromCookie({ cookieHeader: cookies.at(-1).split(';')[0], appendSetCookie: () => {} });
const workerThreads = process.report.getReport().workers.length;
await reader.close();

process.stdout.write(JSON.stringify({ sameId: loaded.id === created.id, cart: loaded.data.cart, poolErrors, workerThreads }));
