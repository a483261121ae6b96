/**
 * Only a validated, hashed store key ever becomes a path: hostile keys are
 * refused before any path is built, and nothing on disk holds a session id,
 * a user id or plaintext session data.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { context, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { recordWrite } from './contract.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const HOSTILE_KEYS: unknown[] = [
  '../../../../etc/passwd',
  `../${'a'.repeat(61)}`,
  `/${'a'.repeat(63)}`,
  `${'a'.repeat(31)}/${'a'.repeat(32)}`,
  `${'a'.repeat(31)}\\${'a'.repeat(32)}`,
  `${'a'.repeat(63)}\0`,
  '',
  'a'.repeat(65),
  'a'.repeat(4096),
  'A'.repeat(64),
  'g'.repeat(64),
  `${'a'.repeat(60)}.dead`,
  '..',
  42,
  null,
  undefined,
  { toString: () => 'a'.repeat(64) },
];

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function allEntries(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

it('refuses hostile store keys in every operation before touching the disk', async () => {
  const parent = await tempRoot('fs-hostile');
  roots.push(parent);
  const root = join(parent, 'root');
  await mkdir(root);
  const store = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  await store.open();
  const before = await allEntries(parent);
  for (const key of HOSTILE_KEYS) {
    const k = key as string;
    for (const call of [
      () => store.find(k),
      () => store.insert(k, recordWrite()),
      () => store.update(k, 1, recordWrite()),
      () => store.touch(k, 1),
      () => store.delete(k),
    ]) {
      await rejectsWithCode(call(), 'ERR_SESSION_STORE');
    }
  }
  for (const tag of ['../x', 'a'.repeat(31), 'A'.repeat(32), `${'a'.repeat(31)}/`]) {
    await rejectsWithCode(store.listByUser(tag, 10), 'ERR_SESSION_STORE');
    await rejectsWithCode(store.insert('b'.repeat(64), recordWrite({ userTag: tag })), 'ERR_SESSION_STORE');
  }
  assert.deepEqual(await allEntries(parent), before, 'nothing was created anywhere');
  await store.close();
});

it('refuses hostile session ids at the manager as not found, creating nothing', async () => {
  const root = await tempRoot('fs-hostile-ids');
  roots.push(root);
  const manager = await createSessionManager({ storageType: 'filesystem', filesystemPath: root, encryptionKey: testKey(), cleanupInterval: 0, crypto: { mode: 'inline' } });
  try {
    const before = await allEntries(root);
    for (const id of ['../../etc/passwd', '/', '\\', 'a\0b', '', 'x'.repeat(10_000), 'é'.repeat(43), `${'A'.repeat(42)}/`]) {
      await rejectsWithCode(manager.load(context(), id), 'ERR_SESSION_NOT_FOUND');
      await rejectsWithCode(manager.set(id, 'k', 1), 'ERR_SESSION_NOT_FOUND');
      await manager.destroy(context(), id);
      assert.equal(await manager.isValid(id), false);
    }
    assert.deepEqual(await allEntries(root), before);
  } finally {
    await manager.close();
  }
});

it('never writes a session id, user id or plaintext data to disk (names or contents)', async () => {
  const root = await tempRoot('fs-no-plaintext');
  roots.push(root);
  const manager = await createSessionManager({ storageType: 'filesystem', filesystemPath: root, encryptionKey: testKey(), cleanupInterval: 0, crypto: { mode: 'inline' } });
  const marker = 'PLAINTEXT-MARKER-7f3a9c';
  const userId = 'user-marker@example.com';
  const secrets: string[] = [marker, userId, 'tenant-marker-42'];
  try {
    for (let i = 0; i < 5; i++) {
      const session = await manager.create(context({ userId, tenantId: 'tenant-marker-42', ipAddress: '203.0.113.9', userAgent: 'agent-marker' }));
      session.data.note = `${marker}-${i}`;
      await manager.save(context(), session);
      await manager.set(session.id, 'again', marker);
      const idBytes = Buffer.from(session.id, 'base64url');
      secrets.push(session.id, idBytes.toString('hex'), idBytes.toString('base64'));
    }
    const haystacks: Buffer[] = [];
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      haystacks.push(Buffer.from(entry.name));
      if (entry.isFile()) haystacks.push(await readFile(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)));
    }
    assert.ok(haystacks.length > 10);
    for (const secret of [...secrets, 'agent-marker', '203.0.113.9']) {
      for (const haystack of haystacks) assert.equal(haystack.includes(secret), false, `found ${JSON.stringify(secret)} on disk`);
    }
  } finally {
    await manager.close();
  }
});
