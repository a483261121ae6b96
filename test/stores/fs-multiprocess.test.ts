/**
 * Two app processes on one session directory, each with its own LRU whose
 * staleness bound is small but not zero: only the store's cross-process
 * compare-and-swap stands between a stale cached read and a lost write.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { createSessionManager } from '../../src/index.ts';
import { testKey } from '../helpers/manager.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const run = promisify(execFile);
const ctx = { appendSetCookie: () => {} };

interface Acknowledged {
  sets: string[];
  increments: number;
  failures: string[];
}

async function appProcess(job: Record<string, unknown>): Promise<Acknowledged> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/stores/fixtures/fs-node-process.ts', JSON.stringify(job)], {
    timeout: 90_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Acknowledged;
}

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

for (const fsync of [false, true]) {
  it(`loses no set and no increment when two processes hammer the same sessions (fsync ${fsync ? 'on' : 'off'})`, async () => {
    const root = await tempRoot('fs-multiprocess');
    roots.push(root);
    const key = testKey();
    const config = { storageType: 'filesystem', filesystemPath: root, filesystem: { fsync }, encryptionKey: key, cleanupInterval: 0, crypto: { mode: 'inline' } } as const;
    const setup = await createSessionManager(config);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await setup.create(ctx)).id);
    await setup.close();

    const ops = 40;
    const job = { mode: 'hammer', root, key: key.toString('base64'), ids, ops, staleMs: 20, fsync };
    const [p1, p2] = await Promise.all([appProcess({ ...job, node: 'p1' }), appProcess({ ...job, node: 'p2' })]);
    assert.deepEqual(p1!.failures, []);
    assert.deepEqual(p2!.failures, []);

    const fresh = await createSessionManager({ ...config, cache: { staleMs: 0 } });
    try {
      for (const id of ids) {
        const session = await fresh.load(ctx, id);
        assert.equal(session.data.counter, 2 * ops, `every acknowledged increment of ${id} landed`);
        for (const node of ['p1', 'p2']) {
          for (let i = 0; i < ops; i++) assert.equal(session.data[`${node}-${i}`], i, `${id} kept ${node}-${i}`);
        }
      }
      assert.equal(p1!.increments + p2!.increments, 2 * ops * ids.length);
    } finally {
      await fresh.close();
    }
  });
}
