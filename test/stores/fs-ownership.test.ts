/**
 * The filesystem store refuses directories another user could write:
 * owned by someone else, world-writable, or group-writable unless
 * filesystem.allowGroupWrite says a group shares the store (and then only
 * a group this process is in). Directories it creates get exactly the
 * policy's mode, whatever the umask.
 *
 * These tests chown to nobody (uid 65534) and nogroup (gid 65534): they need
 * root, which is what the test machines run as.
 */
import assert from 'node:assert/strict';
import { chmod, chown, readdir, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { context, testKey } from '../helpers/manager.ts';
import { randomKey, recordWrite, T0 } from './contract.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const NOBODY = 65534;
const NOGROUP = 65534;
const isRoot = process.geteuid?.() === 0;
const needsRoot = { skip: isRoot ? false : 'chown to another user needs root' };

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function root(): Promise<string> {
  const path = await tempRoot('fs-ownership');
  roots.push(path);
  return path;
}

function store(path: string, options: { allowGroupWrite?: boolean; onError?: (error: Error) => void } = {}): FilesystemStore {
  return new FilesystemStore({ path, fsync: false, onError: () => {}, ...options });
}

/** Rejects with ERR_SESSION_STORE whose message contains every word. */
async function refused(promise: Promise<unknown>, words: string[]): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_SESSION_STORE', String(error));
    for (const word of words) assert.ok(error.message.includes(word), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(word)}`);
    return true;
  });
}

it('refuses a root owned by another user, naming the path, the owner found and how to fix it', needsRoot, async () => {
  const path = await root();
  await chown(path, NOBODY, NOGROUP);
  await refused(store(path).open(), [JSON.stringify(path), 'owned by uid 65534', `uid ${process.geteuid!()}`, 'chown', 'mode 0700']);
  await refused(
    createSessionManager({ storageType: 'filesystem', filesystemPath: path, encryptionKey: testKey(), cleanupInterval: 0, crypto: { mode: 'inline' } }),
    ['owned by uid 65534'],
  );
  assert.deepEqual(await readdir(path), [], 'nothing was created in the refused root');
});

it('refuses a v1 (or users, or quarantine) directory owned by another user', needsRoot, async () => {
  for (const sub of ['v1', 'v1/users', 'v1/quarantine']) {
    const path = await root();
    await store(path).open();
    await chown(join(path, sub), NOBODY, NOGROUP);
    await refused(store(path).open(), [JSON.stringify(join(path, sub)), 'owned by uid 65534']);
  }
});

it('refuses a world-writable (0777) root or v1, even with allowGroupWrite', async () => {
  for (const sub of ['', 'v1']) {
    const path = await root();
    await store(path).open();
    await chmod(join(path, sub), 0o777);
    await refused(store(path).open(), [JSON.stringify(join(path, sub)), 'mode 0777', 'writable by every user', 'chmod o-w']);
    await refused(store(path, { allowGroupWrite: true }).open(), ['writable by every user']);
  }
});

it('refuses a group-writable root unless filesystem.allowGroupWrite is set', async () => {
  const path = await root();
  await chmod(path, 0o770);
  await refused(store(path).open(), [JSON.stringify(path), 'mode 0770', 'writable by group', 'filesystem.allowGroupWrite']);
  await store(path, { allowGroupWrite: true }).open();
  // The option reaches the store through createSessionManager.
  const manager = await createSessionManager({
    storageType: 'filesystem',
    filesystemPath: path,
    filesystem: { allowGroupWrite: true },
    encryptionKey: testKey(),
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
  });
  try {
    const session = await manager.create(context());
    assert.equal((await manager.load(context(), session.id)).id, session.id);
  } finally {
    await manager.close();
  }
});

it('with allowGroupWrite, still refuses a directory owned by a stranger, or group-writable by a group this process is not in', needsRoot, async () => {
  const foreignGroup = await root();
  await chmod(foreignGroup, 0o770);
  await chown(foreignGroup, process.geteuid!(), NOGROUP);
  await refused(store(foreignGroup, { allowGroupWrite: true }).open(), ['writable by group 65534', 'which this process is not in', 'chgrp']);

  const stranger = await root();
  await chown(stranger, NOBODY, NOGROUP);
  await refused(store(stranger, { allowGroupWrite: true }).open(), ['owned by uid 65534 and group 65534']);

  // Another user's directory in one of this process's groups is the shared case the option is for.
  const shared = await root();
  await chmod(shared, 0o2770);
  await chown(shared, NOBODY, process.getegid!());
  await store(shared, { allowGroupWrite: true }).open();
});

it('refuses at open a loose shard or user index directory it finds, and at use one below it', async () => {
  const path = await root();
  const first = store(path);
  await first.open();
  const key = randomKey();
  const tag = 'ab'.repeat(16);
  await first.insert(key, recordWrite({ userTag: tag }));
  const top = join(path, 'v1', key.slice(0, 2));
  await chmod(top, 0o777);
  await refused(store(path).open(), [JSON.stringify(top), 'shard directory', 'writable by every user']);
  await chmod(top, 0o700);
  await chmod(join(path, 'v1', 'users', 'ab'), 0o720);
  await refused(store(path).open(), ['user index directory', 'writable by group']);
  await chmod(join(path, 'v1', 'users', 'ab'), 0o700);

  // ab/cd is not looked at by open (65 536 of them); every operation checks it before use.
  const opened = store(path);
  await opened.open();
  await chmod(first.layout.shardDir(key), 0o757);
  for (const call of [() => opened.find(key), () => opened.update(key, 1, recordWrite()), () => opened.touch(key, T0), () => opened.delete(key), () => opened.insert(key, recordWrite())]) {
    await refused(call(), [JSON.stringify(first.layout.shardDir(key)), 'writable by every user']);
  }
  await refused(opened.listByUser(tag, 10), []);
});

it('cleanup reports a loose shard directory and skips it, cleaning the others', async () => {
  const path = await root();
  const reports: Error[] = [];
  const opened = store(path, { onError: (error) => reports.push(error) });
  await opened.open();
  const loose = randomKey();
  let other = randomKey();
  while (other.slice(0, 4) === loose.slice(0, 4)) other = randomKey();
  await opened.insert(loose, recordWrite({ expiresAt: T0 - 1 }));
  await opened.insert(other, recordWrite({ expiresAt: T0 - 1 }));
  await chmod(opened.layout.shardDir(loose), 0o777);
  assert.equal(await opened.deleteExpired(T0), 1, 'the record in the trusted shard was removed');
  assert.ok(reports.some((r) => r.message.includes(JSON.stringify(opened.layout.shardDir(loose))) && /every user/.test(r.message)));
  await chmod(opened.layout.shardDir(loose), 0o700);
  assert.ok(await opened.find(loose), 'the record in the loose shard was left alone');
});

it('creates a missing root and every directory with exactly 0700 (files 0600) whatever the umask', async () => {
  const path = join(await root(), 'missing', 'sessions');
  const previous = process.umask(0o277);
  try {
    const opened = store(path);
    await opened.open();
    const key = randomKey();
    await opened.insert(key, recordWrite({ userTag: 'cd'.repeat(16) }));
    for (const dir of [path, join(path, 'v1'), join(path, 'v1', 'users'), join(path, 'v1', 'quarantine'), opened.layout.shardDir(key), opened.layout.userDir('cd'.repeat(16))]) {
      assert.equal((await stat(dir)).mode & 0o7777, 0o700, dir);
    }
    assert.equal((await stat(join(opened.layout.shardDir(key), `${key}.1.0`))).mode & 0o777, 0o600 & ~0o277, 'a record is never more open than 0600');
  } finally {
    process.umask(previous);
  }
});

it('with allowGroupWrite, creates directories 2770 and files 0640 whatever the umask, so the whole group can use them', async () => {
  const path = join(await root(), 'shared');
  const previous = process.umask(0o077);
  try {
    const opened = store(path, { allowGroupWrite: true });
    await opened.open();
    const key = randomKey();
    await opened.insert(key, recordWrite({ userTag: 'ef'.repeat(16) }));
    for (const dir of [path, join(path, 'v1'), opened.layout.shardDir(key), opened.layout.userDir('ef'.repeat(16))]) {
      assert.equal((await stat(dir)).mode & 0o7777, 0o2770, dir);
    }
    assert.equal((await stat(join(opened.layout.shardDir(key), `${key}.1.0`))).mode & 0o777, 0o640);
  } finally {
    process.umask(previous);
  }
});

it('does not refuse a root that is a symlink to a trusted directory (the operator chose it), but checks the target', async () => {
  const target = await root();
  const parent = await root();
  const link = join(parent, 'sessions');
  await symlink(target, link);
  await store(link).open();
  assert.ok((await stat(join(target, 'v1'))).isDirectory());
  await chmod(target, 0o777);
  await refused(store(link).open(), ['writable by every user']);
});
