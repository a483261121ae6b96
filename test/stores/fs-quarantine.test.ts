/**
 * The quarantine folder is bounded: cleanup deletes quarantined files past
 * quarantineMaxAgeMs and, beyond quarantineMaxFiles, the oldest first.
 * Ages come from the store's clock (injected here), written into each
 * quarantined name; a file put there by hand is aged by its mtime.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { randomKey, T0 } from './contract.ts';
import { openFsStore, removeRoot } from './fs-helpers.ts';

const DAY = 24 * 3600_000;
const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function fixture(options: { quarantineMaxFiles?: number; quarantineMaxAgeMs?: number }) {
  const clock = { now: Date.now() };
  const opened = await openFsStore({ ...options, wallClock: () => clock.now });
  roots.push(opened.root);
  const { store } = opened;
  /** Plants a corrupt record for a new key and has the store quarantine it now (by its clock). */
  const quarantineOne = async (): Promise<string> => {
    const key = randomKey();
    await mkdir(store.layout.shardDir(key), { recursive: true });
    await writeFile(join(store.layout.shardDir(key), `${key}.1.0`), 'corrupt');
    assert.equal(await store.find(key), null);
    return key;
  };
  const quarantinedKeys = async (): Promise<string[]> => (await readdir(store.layout.quarantineDir)).map((n) => n.slice(0, 64)).sort();
  return { ...opened, clock, quarantineOne, quarantinedKeys };
}

it('keeps at most quarantineMaxFiles quarantined files, deleting the oldest first', async () => {
  const { store, clock, quarantineOne, quarantinedKeys } = await fixture({ quarantineMaxFiles: 3 });
  const keys: string[] = [];
  for (let i = 0; i < 6; i++) {
    keys.push(await quarantineOne());
    clock.now += 1000;
  }
  assert.equal((await quarantinedKeys()).length, 6, 'between cleanups the quarantine may exceed its bound');
  await store.deleteExpired(T0);
  assert.deepEqual(await quarantinedKeys(), keys.slice(3).sort(), 'the three newest are kept');
  await store.deleteExpired(T0);
  assert.deepEqual(await quarantinedKeys(), keys.slice(3).sort());
});

it('deletes quarantined files older than quarantineMaxAgeMs, whatever their count', async () => {
  const { store, clock, quarantineOne, quarantinedKeys } = await fixture({ quarantineMaxAgeMs: DAY });
  const old = [await quarantineOne(), await quarantineOne()];
  clock.now += DAY - 1000;
  const recent = await quarantineOne();
  await store.deleteExpired(T0);
  assert.deepEqual(await quarantinedKeys(), [...old, recent].sort(), 'nothing is past its age yet');
  clock.now += 2000;
  await store.deleteExpired(T0);
  assert.deepEqual(await quarantinedKeys(), [recent]);
});

it('ages a file put in the quarantine by hand by its mtime', async () => {
  const { store, clock } = await fixture({ quarantineMaxAgeMs: DAY });
  const dir = store.layout.quarantineDir;
  await writeFile(join(dir, 'left-by-an-operator'), 'x');
  await writeFile(join(dir, 'an-old-one'), 'x');
  await mkdir(join(dir, 'an-old-directory'));
  await writeFile(join(dir, 'an-old-directory', 'inside'), 'x');
  const twoDaysAgo = (clock.now - 2 * DAY) / 1000;
  await utimes(join(dir, 'an-old-one'), twoDaysAgo, twoDaysAgo);
  await utimes(join(dir, 'an-old-directory'), twoDaysAgo, twoDaysAgo);
  await store.deleteExpired(T0);
  assert.deepEqual(await readdir(dir), ['left-by-an-operator']);
});

it('bounds a quarantine that already holds many files (left by an older version) in one cleanup', async () => {
  const { store, clock } = await fixture({ quarantineMaxFiles: 10 });
  const dir = store.layout.quarantineDir;
  // Names as the store gives them: <name>.<ms>.<id>; the newest ten must stay.
  for (let i = 0; i < 500; i++) await writeFile(join(dir, `stray-${String(i).padStart(3, '0')}.${clock.now - 500_000 + i * 1000}.x${i}`), '');
  await store.deleteExpired(T0);
  const left = (await readdir(dir)).sort();
  assert.deepEqual(left.map((n) => n.slice(0, 9)), Array.from({ length: 10 }, (_, i) => `stray-${490 + i}`));
});

it('with quarantineMaxFiles 0 keeps nothing after cleanup', async () => {
  const { store, quarantineOne, quarantinedKeys } = await fixture({ quarantineMaxFiles: 0 });
  await quarantineOne();
  await store.deleteExpired(T0);
  assert.deepEqual(await quarantinedKeys(), []);
});
