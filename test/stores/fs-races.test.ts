/**
 * Races between writers of one key, through two store instances on one root
 * (as two processes would hold): a touch never loses an update, nothing
 * revives a deleted record, cleanup never removes a record a touch extended,
 * and exactly one of many same-version updates wins.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { randomKey, recordWrite, T0 } from './contract.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const ROUNDS = 60;
const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function twoStores(): Promise<[FilesystemStore, FilesystemStore]> {
  const root = await tempRoot('fs-races');
  roots.push(root);
  const a = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  const b = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  await a.open();
  await b.open();
  return [a, b];
}

it('never lets a concurrent touch overwrite an update, and keeps the version', async () => {
  const [a, b] = await twoStores();
  for (let round = 0; round < ROUNDS; round++) {
    const key = randomKey();
    await a.insert(key, recordWrite());
    const update = recordWrite({ expiresAt: T0 + 5 });
    const [updated, touched] = await Promise.all([a.update(key, 1, update), b.touch(key, T0 + 999)]);
    assert.equal(updated, true, 'a touch does not change the version, so the update still applies');
    assert.equal(touched, true);
    const found = (await a.find(key))!;
    assert.equal(found.version, 2);
    assert.deepEqual(Buffer.from(found.sealed), Buffer.from(update.sealed), 'the update survived the touch');
    assert.ok(found.expiresAt === T0 + 5 || found.expiresAt === T0 + 999);
  }
});

it('never revives a record deleted while updates and touches race it', async () => {
  const [a, b] = await twoStores();
  for (let round = 0; round < ROUNDS; round++) {
    const key = randomKey();
    await a.insert(key, recordWrite());
    await Promise.all([a.update(key, 1, recordWrite()), b.delete(key), b.touch(key, T0 + 1), a.update(key, 1, recordWrite())]);
    assert.equal(await a.find(key), null);
    assert.equal(await b.find(key), null);
    assert.equal(await b.update(key, 1, recordWrite()), false);
    assert.equal(await b.update(key, 2, recordWrite()), false);
    assert.equal(await a.touch(key, T0 + 2), false);
    assert.equal(await a.find(key), null);
  }
});

it('lets exactly one of many same-version updates from two stores win', async () => {
  const [a, b] = await twoStores();
  for (let round = 0; round < ROUNDS / 3; round++) {
    const key = randomKey();
    await a.insert(key, recordWrite());
    const writes = Array.from({ length: 10 }, () => recordWrite());
    const results = await Promise.all(writes.map((w, i) => (i % 2 ? a : b).update(key, 1, w)));
    assert.equal(results.filter(Boolean).length, 1);
    const found = (await b.find(key))!;
    assert.equal(found.version, 2);
    assert.deepEqual(Buffer.from(found.sealed), Buffer.from(writes[results.indexOf(true)]!.sealed));
  }
});

it('counts exactly under a chain of concurrent read-modify-write loops from two stores', async () => {
  const [a, b] = await twoStores();
  const key = randomKey();
  await a.insert(key, recordWrite({ sealed: Buffer.from([0]) }));
  const increment = async (store: FilesystemStore, times: number): Promise<void> => {
    for (let done = 0; done < times; ) {
      const current = (await store.find(key))!;
      const next = Buffer.from([current.sealed[0]! + 1]);
      if (await store.update(key, current.version, recordWrite({ sealed: next }))) done++;
    }
  };
  await Promise.all([increment(a, 50), increment(b, 50), increment(a, 50), increment(b, 50)]);
  const found = (await a.find(key))!;
  assert.equal(found.sealed[0], 200);
  assert.equal(found.version, 201);
});

it('never has cleanup remove a record that a racing touch reported as extended', async () => {
  const [a, b] = await twoStores();
  for (let round = 0; round < ROUNDS; round++) {
    const key = randomKey();
    await a.insert(key, recordWrite({ expiresAt: T0 - 1 }));
    const [touched] = await Promise.all([b.touch(key, T0 + 60_000), a.deleteExpired(T0)]);
    const found = await a.find(key);
    if (touched) assert.equal(found?.expiresAt, T0 + 60_000, 'a successful touch is not undone by cleanup');
    else assert.equal(found, null);
  }
});
