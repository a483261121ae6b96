/**
 * close() drains what was accepted, then destroys the pool; and no worker
 * thread keeps a process alive, closed or not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { KeyRing, openBytes } from '../../src/crypto/aead.ts';
import { PooledSealer } from '../../src/crypto/pooled-sealer.ts';

/** Generous: a process that hangs is killed after this and the test fails (not a speed check; tsx start-up alone takes ~1 s). */
const HANG_LIMIT_MS = 30_000;

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; hung: boolean }> {
  const script = fileURLToPath(new URL('./fixtures/pooled-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, HANG_LIMIT_MS);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, hung });
    });
  });
}

it('a process that used the pool and closed it exits on its own', async () => {
  const result = await runChild([]);
  assert.equal(result.hung, false, 'the child did not exit by itself');
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'round-trip ok\n');
});

it('a process that never closed the pool still exits on its own (idle workers are unref\'d)', async () => {
  const result = await runChild(['--no-close']);
  assert.equal(result.hung, false, 'the child did not exit by itself');
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'round-trip ok\n');
});

it('close() settles every operation accepted before it, then rejects new ones', async () => {
  const key = randomBytes(32);
  const ring = new KeyRing(key);
  const sealer = new PooledSealer(ring, { mode: 'pool', threads: 1, maxQueue: 10_000, encryptionKey: key, previousKeys: [] });
  const ad = Buffer.from('ad');
  const pending = Array.from({ length: 500 }, (_, i) => sealer.seal('cookie', Buffer.from(`c${i}`), ad));
  const closed = sealer.close();
  const sealed = await Promise.all(pending);
  await closed;
  sealed.forEach((s, i) => assert.equal(openBytes(ring, 'cookie', s, ad)?.plaintext.toString(), `c${i}`));
  assert.equal(sealer.stats.pooledOps, 500, 'they ran in the pool, not inline');
  assert.equal(sealer.workerThreads.length, 0, 'the pool is gone');
  await assert.rejects(sealer.seal('cookie', Buffer.from('late'), ad), { code: 'ERR_SESSION_CLOSED' });
});
