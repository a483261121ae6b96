/**
 * Cleanup of the filesystem store: expired records by header, orphaned temp
 * files, tombstones after their grace period, files left taken by a dead
 * writer, stale by-user markers; and it yields to the event loop as it goes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { randomKey, randomTag, recordWrite, T0 } from './contract.ts';
import { openFsStore, removeRoot } from './fs-helpers.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

async function fixture(options = {}) {
  const opened = await openFsStore(options);
  roots.push(opened.root);
  return opened;
}

it('removes expired records across many shards, counts them exactly, and lets the event loop run meanwhile', async () => {
  const { store } = await fixture();
  const expired = Array.from({ length: 1500 }, randomKey);
  const live = Array.from({ length: 300 }, randomKey);
  await Promise.all(expired.map((key) => store.insert(key, recordWrite({ expiresAt: T0 - 1, userTag: randomTag() }))));
  await Promise.all(live.map((key) => store.insert(key, recordWrite({ expiresAt: T0 + 1 }))));
  let turns = 0;
  let counting = true;
  const tick = (): void => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const removed = await store.deleteExpired(T0);
  counting = false;
  assert.equal(removed, expired.length);
  assert.ok(turns > 10, `the event loop ran ${turns} turns during cleanup`);
  for (const key of expired.slice(0, 50)) assert.equal(await store.find(key), null);
  for (const key of live) assert.ok(await store.find(key));
  const markers = await readdir(store.layout.usersDir, { recursive: true });
  assert.equal(markers.filter((n) => /[0-9a-f]{64}$/.test(n)).length, 0, 'expired records leave no user markers');
});

it('sweeps temp files of dead processes at once and of live ones only after the grace period', async () => {
  let wall = Date.now();
  const { store } = await fixture({ wallClock: () => wall, tempGraceMs: 60_000 });
  const key = randomKey();
  await store.insert(key, recordWrite());
  const shard = store.layout.shardDir(key);
  const deadTemp = join(shard, `.tmp.${key}.${deadPid()}.x1`);
  const liveTemp = join(shard, `.tmp.${key}.${process.pid}.x2`);
  await writeFile(deadTemp, 'partial');
  await writeFile(liveTemp, 'in flight');
  await store.deleteExpired(T0);
  assert.deepEqual((await readdir(shard)).filter((n) => n.startsWith('.tmp.')), [`.tmp.${key}.${process.pid}.x2`]);
  wall += 120_000;
  await store.deleteExpired(T0);
  assert.deepEqual((await readdir(shard)).filter((n) => n.startsWith('.tmp.')), []);
  assert.ok(await store.find(key));
});

it('keeps a tombstone through its grace period, so a late writer cannot revive the record, then removes it', async () => {
  let wall = Date.now();
  const { store } = await fixture({ wallClock: () => wall, tombstoneGraceMs: 60_000 });
  const key = randomKey();
  await store.insert(key, recordWrite());
  await store.delete(key);
  const shard = store.layout.shardDir(key);
  const tombstone = `${key}.dead.${wall}`;
  assert.deepEqual(await readdir(shard), [tombstone], 'the record is gone at once; only its tombstone, named for the moment of the delete, is left');
  await store.deleteExpired(T0);
  assert.deepEqual(await readdir(shard), [tombstone]);
  assert.equal(await store.insert(key, recordWrite()), false, 'insert refuses a tombstoned key');
  wall += 120_000;
  await store.deleteExpired(T0);
  assert.deepEqual(await readdir(shard), []);
  assert.equal(await store.update(key, 1, recordWrite()), false);
  assert.equal(await store.touch(key, T0), false);
  assert.equal(await store.find(key), null);
});

it('takes over a record left taken by a writer that died, removing what it left', async () => {
  const { store } = await fixture();
  const key = randomKey();
  const first = recordWrite();
  await store.insert(key, first);
  const shard = store.layout.shardDir(key);
  const pid = deadPid();
  // What a writer killed between its take and its publish leaves behind.
  await rename(join(shard, `${key}.1.0`), join(shard, `${key}.1.0~${pid}.abc`));
  assert.deepEqual(Buffer.from((await store.find(key))!.sealed), Buffer.from(first.sealed), 'a taken file still reads as current');
  const second = recordWrite();
  assert.equal(await store.update(key, 1, second), true);
  assert.equal((await store.find(key))!.version, 2);
  assert.deepEqual(await readdir(shard), [`${key}.2.0`]);
});

it('prunes stale by-user markers (after a tag change or a lost record) when listing', async () => {
  const { store } = await fixture();
  const [before, afterTag] = [randomTag(), randomTag()];
  const key = randomKey();
  await store.insert(key, recordWrite({ userTag: before }));
  await store.update(key, 1, recordWrite({ userTag: afterTag }));
  const ghost = randomKey();
  await writeFile(join(store.layout.userDir(before), ghost), '');
  assert.deepEqual(await store.listByUser(before, 10), []);
  await assert.rejects(readdir(store.layout.userDir(before)), { code: 'ENOENT' }, 'stale markers were removed, and with the last one the directory');
  assert.deepEqual((await store.listByUser(afterTag, 10)).map((r) => r.key), [key]);
});

it('leaves a record whose expiry a touch extended just before cleanup', async () => {
  const { store } = await fixture();
  const key = randomKey();
  await store.insert(key, recordWrite({ expiresAt: T0 - 1 }));
  await store.touch(key, T0 + 60_000);
  assert.equal(await store.deleteExpired(T0), 0);
  assert.equal((await store.find(key))!.expiresAt, T0 + 60_000);
  assert.deepEqual(await readdir(store.layout.shardDir(key)), [`${key}.1.1`]);
});

it('removes an older leftover version only after the grace period (a late publisher may still be checking it)', async () => {
  let wall = Date.now();
  const { store } = await fixture({ wallClock: () => wall, tempGraceMs: 60_000 });
  const key = randomKey();
  await store.insert(key, recordWrite());
  await store.update(key, 1, recordWrite());
  const shard = store.layout.shardDir(key);
  await writeFile(join(shard, `${key}.1.0`), 'left behind');
  await store.deleteExpired(T0);
  assert.deepEqual((await readdir(shard)).sort(), [`${key}.1.0`, `${key}.2.0`]);
  assert.equal((await store.find(key))!.version, 2, 'the highest version is current');
  wall += 120_000;
  await store.deleteExpired(T0);
  assert.deepEqual(await readdir(shard), [`${key}.2.0`]);
});
