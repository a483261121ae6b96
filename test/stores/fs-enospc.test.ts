/**
 * A full disk: on a small tmpfs mounted for this test, a save fails with
 * ERR_SESSION_STORE, the previous record stays intact, and the cache in
 * front of the store does not claim the failed write.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { rejectsWithCode, testKey } from '../helpers/manager.ts';

const ctx = { appendSetCookie: () => {} };

/** Writes to `path` until the device is full. */
function fillDevice(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096, 0x61);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

it('fails a save on a full disk with ERR_SESSION_STORE, keeps the previous record, and the cache claims nothing', async (t) => {
  const mountPoint = await mkdtemp(join(tmpdir(), 'rockstar-enospc-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    await rmdir(mountPoint);
    t.skip(`cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}); needs root or CAP_SYS_ADMIN`);
    return;
  }
  const root = join(mountPoint, 'sessions');
  const key = testKey();
  // A long staleness bound: if the cache had kept the failed write, this manager would serve it.
  const config = { storageType: 'filesystem', filesystemPath: root, encryptionKey: key, cleanupInterval: 0, crypto: { mode: 'inline' }, cache: { staleMs: 60_000 } } as const;
  const manager = await createSessionManager(config);
  try {
    const session = await manager.create(ctx);
    session.data.before = 'kept';
    await manager.save(ctx, session);

    fillDevice(join(mountPoint, 'filler'));
    session.data.after = 'y'.repeat(8000);
    await rejectsWithCode(manager.save(ctx, session), 'ERR_SESSION_STORE');
    await rejectsWithCode(manager.set(session.id, 'other', 'z'.repeat(8000)), 'ERR_SESSION_STORE');
    const error = await manager.save(ctx, session).catch((e: unknown) => e as Error & { cause?: { code?: string } });
    assert.equal(error?.cause?.code, 'ENOSPC');
    assert.match(error!.message, /no space left/);

    const cachedView = await manager.load(ctx, session.id);
    assert.deepEqual(cachedView.data, { before: 'kept' }, 'the cache does not claim the failed writes');
    const fresh = await createSessionManager({ ...config, cache: { staleMs: 0 } });
    try {
      assert.deepEqual((await fresh.load(ctx, session.id)).data, { before: 'kept' }, 'the previous record is intact on disk');
    } finally {
      await fresh.close();
    }
    const names = await readdir(join(root, 'v1'), { recursive: true });
    assert.deepEqual(names.filter((n) => n.includes('.tmp.')), [], 'no partial temp file is left behind');

    await rm(join(mountPoint, 'filler'));
    await manager.save(ctx, session);
    assert.equal((await manager.load(ctx, session.id)).data.after, 'y'.repeat(8000), 'writes work again once space is back');
  } finally {
    await manager.close();
    execFileSync('umount', [mountPoint]);
    await rmdir(mountPoint);
  }
});
