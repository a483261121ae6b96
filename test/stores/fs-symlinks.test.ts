/**
 * No symlink inside the store's tree is ever followed, for reads, writes,
 * cleanup or listing: a link where a shard, user or quarantine directory
 * should be is removed (never its target) and reported, and records never
 * land outside the root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { randomKey, randomTag, recordWrite, T0 } from './contract.ts';
import { openFsStore, removeRoot, tempRoot } from './fs-helpers.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function fixture() {
  const opened = await openFsStore();
  roots.push(opened.root);
  const outside = await tempRoot('fs-outside');
  roots.push(outside);
  return { ...opened, outside };
}

async function allFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

function linkReports(reports: Error[]): Error[] {
  return reports.filter((r) => /removed a symbolic link/.test(r.message));
}

it('never writes through a symlinked shard directory (either level): the link is removed and reported, the record lands inside the root', async () => {
  const { store, reports, outside } = await fixture();
  const leafKey = randomKey();
  const leaf = store.layout.shardDir(leafKey);
  await mkdir(join(leaf, '..'), { recursive: true });
  await mkdir(join(outside, 'leaf'));
  await symlink(join(outside, 'leaf'), leaf);
  let topKey = randomKey();
  while (topKey.slice(0, 2) === leafKey.slice(0, 2)) topKey = randomKey();
  const top = join(store.layout.base, topKey.slice(0, 2));
  await mkdir(join(outside, 'top'));
  await symlink(join(outside, 'top'), top);

  const write = recordWrite({ userTag: randomTag() });
  assert.equal(await store.insert(leafKey, write), true);
  assert.equal(await store.insert(topKey, recordWrite()), true);

  assert.deepEqual(await allFiles(outside), ['leaf', 'top'], 'nothing was written outside the root');
  for (const dir of [leaf, top]) assert.ok((await lstat(dir)).isDirectory(), `${dir} is a real directory now`);
  assert.deepEqual(await readdir(leaf), [`${leafKey}.1.0`]);
  assert.deepEqual(Buffer.from((await store.find(leafKey))!.sealed), Buffer.from(write.sealed));
  assert.equal(linkReports(reports).length, 2);
  assert.ok(linkReports(reports)[0]!.message.includes(JSON.stringify(join(outside, 'leaf'))), 'the report names the link and its target');
});

it('never reads a record through a symlinked shard directory', async () => {
  const { store, reports, outside } = await fixture();
  // A real record of this key, in another store: what a link could make this store read.
  const other = new FilesystemStore({ path: outside, fsync: false, onError: () => {} });
  await other.open();
  const key = randomKey();
  await other.insert(key, recordWrite());
  await mkdir(join(store.layout.shardDir(key), '..'), { recursive: true });
  await symlink(other.layout.shardDir(key), store.layout.shardDir(key));

  assert.equal(await store.find(key), null);
  assert.equal(await store.update(key, 1, recordWrite()), false);
  assert.equal(await store.touch(key, T0 + 1), false);
  await store.delete(key);
  assert.equal(linkReports(reports).length, 1);
  assert.equal((await other.find(key))!.version, 1, "the link's target is untouched");
});

it('cleanup never follows a link: it removes links at both shard levels and in a shard, and leaves their targets whole', async () => {
  const { store, reports, outside } = await fixture();
  const other = new FilesystemStore({ path: outside, fsync: false, onError: () => {} });
  await other.open();
  const [a, b] = [randomKey(), randomKey()];
  await other.insert(a, recordWrite({ expiresAt: T0 - 1 }));
  await other.insert(b, recordWrite({ expiresAt: T0 - 1 }));
  // Level one: v1/ab -> elsewhere. Level two: v1/cd/ef -> elsewhere. In a shard: a record name -> elsewhere.
  await symlink(join(other.layout.base, a.slice(0, 2)), join(store.layout.base, a.slice(0, 2)));
  let c = randomKey();
  while (c.slice(0, 2) === a.slice(0, 2)) c = randomKey();
  await mkdir(join(store.layout.base, c.slice(0, 2)), { recursive: true });
  await symlink(other.layout.shardDir(b), store.layout.shardDir(c));
  const live = randomKey();
  await store.insert(live, recordWrite());
  const planted = join(store.layout.shardDir(live), `${randomKey().slice(0, 4)}${live.slice(4)}.1.0`);
  await symlink(join(other.layout.shardDir(a), `${a}.1.0`), planted);

  const before = await allFiles(outside);
  assert.equal(await store.deleteExpired(T0), 0, 'nothing of the link targets counts as removed');
  assert.deepEqual(await allFiles(outside), before, 'every file behind the links is still there');
  assert.equal((await other.find(a))!.version, 1);
  await assert.rejects(lstat(join(store.layout.base, a.slice(0, 2))), { code: 'ENOENT' });
  await assert.rejects(lstat(store.layout.shardDir(c)), { code: 'ENOENT' });
  await assert.rejects(lstat(planted), { code: 'ENOENT' });
  assert.equal(linkReports(reports).length, 3);
  assert.ok(await store.find(live), 'the real record is untouched');
});

it('never lists or prunes markers through a symlinked user index directory', async () => {
  const { store, reports, outside } = await fixture();
  const tag = randomTag();
  const key = randomKey();
  await store.insert(key, recordWrite({ userTag: randomTag() }));
  // A marker for `key` in a directory outside: main would read it through the link and prune it there.
  await writeFile(join(outside, key), 'not the store\'s');
  await mkdir(join(store.layout.userDir(tag), '..'), { recursive: true });
  await symlink(outside, store.layout.userDir(tag));
  assert.deepEqual(await store.listByUser(tag, 10), []);
  assert.equal(await readFile(join(outside, key), 'utf8'), 'not the store\'s', 'the target is untouched');
  await assert.rejects(lstat(store.layout.userDir(tag)), { code: 'ENOENT' });
  assert.equal(linkReports(reports).length, 1);
  // A marker write goes to a real directory now.
  await store.insert(randomKey(), recordWrite({ userTag: tag }));
  assert.equal((await store.listByUser(tag, 10)).length, 1);
  assert.deepEqual(await readdir(outside), [key]);
});

it('replaces a symlinked users or quarantine directory at open with a real one, and refuses a symlinked v1', async () => {
  const { store, root, outside } = await fixture();
  await store.close();
  for (const name of ['users', 'quarantine']) {
    const path = join(store.layout.base, name);
    await removeRoot(path);
    await mkdir(join(outside, name));
    await symlink(join(outside, name), path);
  }
  const reports: Error[] = [];
  const reopened = new FilesystemStore({ path: root, fsync: false, onError: (e) => reports.push(e) });
  await reopened.open();
  for (const name of ['users', 'quarantine']) assert.ok((await lstat(join(store.layout.base, name))).isDirectory());
  assert.equal(linkReports(reports).length, 2);
  const key = randomKey();
  await mkdir(reopened.layout.shardDir(key), { recursive: true });
  await writeFile(join(reopened.layout.shardDir(key), `${key}.1.0`), 'garbage');
  assert.equal(await reopened.find(key), null);
  assert.equal((await readdir(reopened.layout.quarantineDir)).length, 1, 'quarantined inside the root');
  assert.deepEqual(await allFiles(outside), ['quarantine', 'users']);

  const elsewhere = await tempRoot('fs-v1-link');
  roots.push(elsewhere);
  const linked = await tempRoot('fs-v1-root');
  roots.push(linked);
  await symlink(join(root, 'v1'), join(linked, 'v1'));
  await assert.rejects(new FilesystemStore({ path: linked, fsync: false }).open(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_SESSION_STORE');
    assert.match(error.message, /symbolic link/);
    assert.ok(error.message.includes(JSON.stringify(join(linked, 'v1'))));
    return true;
  });
});

it('does not hang on a FIFO planted under a record name, and quarantines it', { timeout: 10_000 }, async () => {
  const { store } = await fixture();
  const key = randomKey();
  await mkdir(store.layout.shardDir(key), { recursive: true });
  execFileSync('mkfifo', [join(store.layout.shardDir(key), `${key}.1.0`)]);
  assert.equal(await store.find(key), null);
  assert.equal((await readdir(store.layout.quarantineDir)).length, 1);
});
