/**
 * express 5 + express-session with session-file-store (its files in a fresh temp directory,
 * removed on exit), configured as their READMEs recommend: the filesystem peer of our
 * filesystem store. Same routes, session contents and cart rules as express-session.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExpressSessionApp } from './express-session-app.ts';

const require = createRequire(import.meta.url);

const dir = mkdtempSync(join(tmpdir(), 'bench-session-file-store-'));
const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
process.once('exit', cleanup);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));

startExpressSessionApp((session) => {
  const FileStore = require('session-file-store')(session);
  // Defaults otherwise (write-file-atomic, 5 retries); no reaper, to keep its timer out of the measurement.
  return new FileStore({ path: dir, logFn: () => {}, reapInterval: -1 });
});
