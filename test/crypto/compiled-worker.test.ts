/**
 * The worker must start from compiled output too, not only under tsx: the
 * package ships dist/*.js, where the worker entry is worker.js. This builds
 * with the real build config into a scratch directory and round-trips
 * seal/open through the compiled factory in a plain `node` process (no tsx).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
// Inside node_modules so the compiled files resolve piscina and sodium-native as dist/ would.
const OUT = mkdtempSync(join(ROOT, 'node_modules', '.cache-compiled-worker-'));
after(() => rmSync(OUT, { recursive: true, force: true }));

const CHILD = `
import { randomBytes } from 'node:crypto';
const { validateConfig } = await import(process.env.OUT + '/config.js');
const { KeyRing } = await import(process.env.OUT + '/crypto/aead.js');
const { createSealer } = await import(process.env.OUT + '/crypto/factory.js');
const config = validateConfig({ storageType: 'cache', encryptionKey: randomBytes(32), crypto: { mode: 'pool', threads: 1 } });
const sealer = createSealer(config, new KeyRing(config.encryptionKey));
const ad = Buffer.from('ad');
const sealed = await Promise.all(Array.from({ length: 100 }, (_, i) => sealer.seal('cookie', Buffer.from('compiled ' + i), ad)));
const opened = await Promise.all(sealed.map((s) => sealer.open('cookie', s, ad)));
const stats = sealer.stats;
await sealer.close();
console.log(JSON.stringify({ texts: opened.map((o) => o && o.plaintext.toString()), pooledOps: stats.pooledOps, failed: stats.failedBatches }));
`;

it('the compiled pooled sealer starts worker.js and round-trips without tsx', async () => {
  // Type errors elsewhere in the tree (other work in progress) do not stop tsc from emitting; the files are checked below.
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', OUT], { cwd: ROOT }).catch(() => {});
  for (const file of ['crypto/factory.js', 'crypto/pooled-sealer.js', 'crypto/worker.js', 'crypto/batch-layout.js', 'crypto/aead.js']) {
    assert.ok(existsSync(join(OUT, file)), `${file} was emitted`);
  }
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { ...process.env, OUT, NODE_OPTIONS: '' },
    timeout: 30_000,
  });
  const result = JSON.parse(stdout) as { texts: string[]; pooledOps: number; failed: number };
  assert.deepEqual(result.texts, Array.from({ length: 100 }, (_, i) => `compiled ${i}`));
  assert.equal(result.pooledOps, 200, 'every operation went through the compiled worker');
  assert.equal(result.failed, 0, 'no batch failed (a worker that cannot load would fail it)');
});
