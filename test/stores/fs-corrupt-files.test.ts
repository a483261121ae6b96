/**
 * Corrupt, truncated, foreign and planted files read as missing, are moved to
 * the quarantine folder and reported, and never make find or cleanup throw.
 */
import assert from 'node:assert/strict';
import { copyFile, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { rejectsWithCode, testKey, context } from '../helpers/manager.ts';
import { randomKey, recordWrite, T0 } from './contract.ts';
import { openFsStore, removeRoot, tempRoot } from './fs-helpers.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function fixture() {
  const opened = await openFsStore();
  roots.push(opened.root);
  const recordPath = (key: string, name = `${key}.1.0`) => join(opened.store.layout.shardDir(key), name);
  const quarantined = async () => readdir(opened.store.layout.quarantineDir);
  return { ...opened, recordPath, quarantined };
}

it('reads garbage, truncated and bit-flipped record files as missing and quarantines them', async () => {
  const { store, recordPath, quarantined, reports } = await fixture();
  const garbage = randomKey();
  await mkdir(store.layout.shardDir(garbage), { recursive: true });
  await writeFile(recordPath(garbage), 'not a record at all');

  const truncated = randomKey();
  await store.insert(truncated, recordWrite({ sealed: Buffer.alloc(500, 7) }));
  const whole = await readFile(recordPath(truncated));
  await writeFile(recordPath(truncated), whole.subarray(0, whole.byteLength - 100));

  const flipped = randomKey();
  await store.insert(flipped, recordWrite());
  const bytes = await readFile(recordPath(flipped));
  bytes[bytes.byteLength - 1]! ^= 0x01;
  await writeFile(recordPath(flipped), bytes);

  for (const key of [garbage, truncated, flipped]) assert.equal(await store.find(key), null);
  assert.equal((await quarantined()).length, 3);
  assert.equal(reports.length, 3);
  for (const report of reports) assert.equal((report as { code?: string }).code, 'ERR_SESSION_STORE');
  // Quarantined means gone from the store: the next read does not report them again.
  for (const key of [garbage, truncated, flipped]) assert.equal(await store.find(key), null);
  assert.equal(reports.length, 3);
});

it('reads a record copied under another key as missing (foreign), leaving the original intact', async () => {
  const { store, recordPath } = await fixture();
  const original = randomKey();
  const write = recordWrite();
  await store.insert(original, write);
  const other = `${original.slice(0, 4)}${randomKey().slice(4)}`; // same shard directory
  await copyFile(recordPath(original), recordPath(other));
  assert.equal(await store.find(other), null);
  assert.deepEqual(Buffer.from((await store.find(original))!.sealed), Buffer.from(write.sealed));
});

it('does not follow a symlink or read a directory planted under a record name: the link is removed, the directory quarantined', async () => {
  const { store, recordPath, quarantined, root, reports } = await fixture();
  const linked = randomKey();
  await mkdir(store.layout.shardDir(linked), { recursive: true });
  const target = join(root, 'target-outside');
  await writeFile(target, 'secret outside the store');
  await symlink(target, recordPath(linked));
  const dir = randomKey();
  await mkdir(recordPath(dir), { recursive: true });
  assert.equal(await store.find(linked), null);
  assert.equal(await store.find(dir), null);
  assert.equal(await readFile(target, 'utf8'), 'secret outside the store', 'the link target is untouched');
  assert.equal((await quarantined()).length, 1, 'the directory was moved aside');
  await assert.rejects(lstat(recordPath(linked)), { code: 'ENOENT' }, 'the link itself was removed');
  assert.ok(reports.some((r) => /removed a symbolic link/.test(r.message) && r.message.includes('target-outside')), 'the removal was reported, naming the target');
});

it('survives strays and corrupt files during cleanup, quarantining them and counting only real expired records', async () => {
  const { store, recordPath, quarantined } = await fixture();
  const expired = randomKey();
  await store.insert(expired, recordWrite({ expiresAt: T0 - 1 }));
  const shard = store.layout.shardDir(expired);
  await writeFile(join(shard, 'hello.txt'), 'stray');
  await writeFile(join(shard, `${expired.slice(0, 60)}`), 'short name');
  await writeFile(join(shard, `${randomKey()}.banana`), 'unknown suffix');
  const corrupt = `${expired.slice(0, 4)}${randomKey().slice(4)}`;
  await writeFile(recordPath(corrupt), Buffer.alloc(200, 0xee));
  await mkdir(join(store.layout.base, 'zz', 'not-a-shard'), { recursive: true });
  assert.equal(await store.deleteExpired(T0), 1);
  assert.equal(await store.find(expired), null);
  assert.equal((await quarantined()).length, 4);
  assert.deepEqual((await readdir(shard)).filter((n) => !n.endsWith('.dead')), []);
  assert.equal(await store.deleteExpired(T0), 0);
});

it('reports a corrupt session as not found through the manager, never as a crash', async () => {
  const root = await tempRoot('fs-corrupt-manager');
  roots.push(root);
  const reports: Error[] = [];
  const manager = await createSessionManager({ storageType: 'filesystem', filesystemPath: root, encryptionKey: testKey(), cleanupInterval: 0, crypto: { mode: 'inline' }, cache: { staleMs: 0 }, onError: (e) => reports.push(e) });
  try {
    const session = await manager.create(context());
    const files = (await readdir(join(root, 'v1'), { recursive: true })).filter((n) => /[0-9a-f]{64}\.1\.0$/.test(n));
    assert.equal(files.length, 1);
    await writeFile(join(root, 'v1', files[0]!), 'overwritten by something else');
    await rejectsWithCode(manager.load(context(), session.id), 'ERR_SESSION_NOT_FOUND');
    assert.equal(reports.length, 1);
    assert.equal(await manager.cleanupExpired(), 0);
  } finally {
    await manager.close();
  }
});
