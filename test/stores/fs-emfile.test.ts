/**
 * Out of file descriptors: in a child process with a low descriptor limit
 * and every descriptor used up, store calls fail at once with a clear
 * ERR_SESSION_STORE naming EMFILE (no hang, no crash), and work again as
 * soon as descriptors are free.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { testKey } from '../helpers/manager.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const run = promisify(execFile);

interface Attempt {
  name: string;
  ok: boolean;
  code?: string;
  message?: string;
}

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

it('fails fast with ERR_SESSION_STORE (EMFILE) when out of file descriptors, and recovers', async () => {
  const root = await tempRoot('fs-emfile');
  roots.push(root);
  const job = { mode: 'emfile', root, key: testKey().toString('base64'), ids: [], node: 'e', ops: 0, staleMs: 0, fsync: true };
  const node = [process.execPath, '--import', 'tsx', 'test/stores/fixtures/fs-node-process.ts', JSON.stringify(job)];
  // A low limit makes using them all up quick; without prlimit the child exhausts the default limit.
  const [command, ...args] = existsSync('/usr/bin/prlimit') ? ['/usr/bin/prlimit', '--nofile=512:512', ...node] : node;
  // The timeout is the "no hang" assertion: the child must finish well within it.
  const { stdout } = await run(command!, args, { timeout: 30_000 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { held: number; starved: Attempt[]; recovered: Attempt[] };
  assert.ok(result.held > 0);
  for (const attempt of result.starved) {
    assert.equal(attempt.ok, false, `${attempt.name} could not have succeeded without a descriptor`);
    assert.equal(attempt.code, 'ERR_SESSION_STORE', `${attempt.name}: ${attempt.message}`);
    assert.match(attempt.message!, /too many open files \(EMFILE\)/);
  }
  for (const attempt of result.recovered) assert.equal(attempt.ok, true, `${attempt.name} works again: ${attempt.message}`);
});
