/**
 * A destroyed session's sealed record does not linger: its tombstone holds
 * no bytes (it is a hard link to an empty anchor, as are the by-user
 * markers, so neither costs an inode), every record file of the key goes at
 * once, and still no late writer, in this process or another, revives it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { lstat, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { randomKey, randomTag, recordWrite, T0 } from './contract.ts';
import { openFsStore, removeRoot, tempRoot } from './fs-helpers.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function fixture(options = {}) {
  const opened = await openFsStore(options);
  roots.push(opened.root);
  return opened;
}

/** Every regular file under `dir` with its bytes. */
async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const result: Array<{ path: string; bytes: Buffer }> = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name);
    if ((await lstat(path)).isFile()) result.push({ path, bytes: await readFile(path) });
  }
  return result;
}

it("leaves none of a destroyed record's sealed bytes anywhere in the store: the tombstone is empty", async () => {
  const { store, root } = await fixture();
  const key = randomKey();
  const first = recordWrite({ userTag: randomTag() });
  const second = recordWrite({ userTag: first.userTag });
  await store.insert(key, first);
  await store.update(key, 1, second);
  await store.delete(key);
  for (const { path, bytes } of await filesUnder(root)) {
    for (const sealed of [first.sealed, second.sealed]) assert.equal(bytes.includes(Buffer.from(sealed)), false, `${path} holds sealed bytes of the destroyed record`);
  }
  const shard = await readdir(store.layout.shardDir(key));
  assert.equal(shard.length, 1);
  const tombstone = await readFile(join(store.layout.shardDir(key), shard[0]!));
  assert.equal(tombstone.byteLength, 0, 'the tombstone holds no bytes');
  assert.match(shard[0]!, new RegExp(`^${key}\\.dead\\.[0-9]+$`), 'named for the moment of the delete');
  assert.equal(await store.find(key), null);
  assert.equal(await store.insert(key, recordWrite()), false, 'the tombstone still refuses the key');
  assert.equal(await store.update(key, 2, recordWrite()), false);
  assert.equal(await store.touch(key, T0 + 1), false);
});

it('gives tombstones and by-user markers no inode of their own: they are links to one empty anchor', async () => {
  const { store } = await fixture();
  const tag = randomTag();
  const keys = Array.from({ length: 20 }, randomKey);
  for (const key of keys) await store.insert(key, recordWrite({ userTag: tag }));
  for (const key of keys.slice(0, 10)) await store.delete(key);
  const inodes = new Set<number>();
  for (const key of keys.slice(0, 10)) {
    const [name] = await readdir(store.layout.shardDir(key));
    inodes.add((await lstat(join(store.layout.shardDir(key), name!))).ino);
  }
  for (const name of await readdir(store.layout.userDir(tag))) inodes.add((await lstat(join(store.layout.userDir(tag), name))).ino);
  assert.equal(inodes.size, 1, '10 tombstones and 10 markers share one inode');
  const anchor = await lstat(join(store.layout.base, `.anchor.${process.geteuid!()}.0`));
  assert.equal(anchor.ino, [...inodes][0]);
  assert.equal(anchor.size, 0);
  assert.equal(anchor.nlink, 21);
});

it('empties a tombstone of the older format (the renamed record) at the next cleanup, and it still refuses writers', async () => {
  let wall = Date.now();
  const { store } = await fixture({ wallClock: () => wall, tombstoneGraceMs: 60_000 });
  const key = randomKey();
  const write = recordWrite();
  await store.insert(key, write);
  const shard = store.layout.shardDir(key);
  // What a delete did before: the current file renamed to <key>.dead, bytes and all.
  await rename(join(shard, `${key}.1.0`), join(shard, `${key}.dead`));
  assert.equal(await store.find(key), null);
  assert.equal(await store.update(key, 1, recordWrite()), false);
  await store.deleteExpired(T0);
  const names = await readdir(shard);
  assert.equal(names.length, 1);
  assert.match(names[0]!, new RegExp(`^${key}\\.dead\\.[0-9]+$`));
  assert.equal((await readFile(join(shard, names[0]!))).byteLength, 0);
  assert.equal(await store.touch(key, T0 + 1), false);
  assert.equal(await store.insert(key, recordWrite()), false);
  wall += 120_000;
  await store.deleteExpired(T0);
  assert.deepEqual(await readdir(shard), [], 'gone after the grace period, counted from the original delete');
});

it('uses the next anchor when one holds bytes, so no tombstone ever shows them', async () => {
  const { store, root, reports } = await fixture();
  // An anchor someone wrote into must never lend its bytes to a tombstone.
  await writeFile(join(store.layout.base, `.anchor.${process.geteuid!()}.0`), 'bytes');
  const fresh = new FilesystemStore({ path: root, fsync: false, onError: (e) => reports.push(e) });
  await fresh.open();
  const key = randomKey();
  await fresh.insert(key, recordWrite());
  await fresh.delete(key);
  const [name] = await readdir(fresh.layout.shardDir(key));
  assert.equal((await readFile(join(fresh.layout.shardDir(key), name!))).byteLength, 0);
  assert.equal((await lstat(join(fresh.layout.base, `.anchor.${process.geteuid!()}.1`))).nlink, 2);
  assert.ok(reports.some((r) => /skips anchor/.test(r.message)));
});

const haveStrace = spawnSync('strace', ['-V']).status === 0;

it('moves to the next anchor when one is at its link limit (EMLINK)', { skip: haveStrace ? false : 'needs strace for fault injection', timeout: 60_000 }, async () => {
  const root = await tempRoot('fs-emlink');
  roots.push(root);
  const uid = process.geteuid!();
  const first = join(root, 'v1', `.anchor.${uid}.0`);
  // Every link() naming the first anchor fails as if it had 65 000 links already.
  const { stdout } = await promisify(execFile)(
    'strace',
    ['-f', '-qq', '-o', '/dev/null', '-P', first, '-e', 'trace=link', '-e', 'inject=link:error=EMLINK', process.execPath, '--import', 'tsx', 'test/stores/fixtures/fs-anchor-process.ts', root, '10'],
    { timeout: 50_000 },
  );
  assert.deepEqual(JSON.parse(stdout.trim()), { inserted: 10 });
  assert.equal((await lstat(first)).nlink, 1, 'the full anchor got no link');
  const second = await lstat(join(root, 'v1', `.anchor.${uid}.1`));
  const store = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  await store.open();
  const tag = 'ab'.repeat(16);
  const markers = await readdir(store.layout.userDir(tag));
  assert.equal(markers.length, 5);
  assert.equal((await store.listByUser(tag, 10)).length, 5);
  assert.equal(second.nlink, 1 + 5 + 5, 'the next anchor holds the 5 markers and 5 tombstones');
  for (const marker of markers) assert.equal((await lstat(join(store.layout.userDir(tag), marker))).ino, second.ino);
});

interface WriterResult {
  rounds: number;
  wins: number;
  revived: string[];
}

function writerProcess(job: Record<string, unknown>): { ready: Promise<void>; done: Promise<WriterResult>; tellDeleted: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/stores/fixtures/fs-writer-process.ts', JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<WriterResult>((resolve, reject) => {
    let last: WriterResult | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { ready?: boolean } & WriterResult;
      if (event.ready) markReady();
      else last = event;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && last) resolve(last);
      else reject(new Error(`writer process exited with ${code}`));
    });
  });
  return { ready, done, tellDeleted: () => child.stdin!.write('deleted\n') };
}

it('keeps destroy final against writers in two other processes racing it, and leaves only empty tombstones', { timeout: 120_000 }, async () => {
  const root = await tempRoot('fs-destroy-race');
  roots.push(root);
  const store = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  await store.open();
  const keys = Array.from({ length: 48 }, randomKey);
  for (const key of keys) await store.insert(key, recordWrite());
  const writers = [0, 1].map(() => writerProcess({ root, keys, roundsAfter: 5 }));
  await Promise.all(writers.map((w) => w.ready));
  // Deleted one after another, so the deletes spread over the writers' rounds of updates and touches.
  for (const key of keys) await store.delete(key);
  for (const writer of writers) writer.tellDeleted();
  const results = await Promise.all(writers.map((w) => w.done));
  for (const result of results) {
    assert.ok(result.wins > 0, 'the writers were writing before the delete');
    assert.deepEqual(result.revived, [], 'no write succeeded after its process saw the key deleted');
  }
  const fresh = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  await fresh.open();
  for (const key of keys) {
    assert.equal(await fresh.find(key), null);
    assert.equal(await fresh.touch(key, T0 + 1), false);
    const names = (await readdir(fresh.layout.shardDir(key))).filter((n) => n.includes(key));
    assert.ok(names.length >= 1);
    for (const name of names) {
      assert.equal((await lstat(join(fresh.layout.shardDir(key), name))).size, 0, `${name} holds no bytes`);
      assert.match(name, new RegExp(`^${key}\\.dead\\.[0-9]+$`), 'only tombstones are left of a destroyed key');
    }
  }
});
