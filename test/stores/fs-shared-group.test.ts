/**
 * filesystem.allowGroupWrite end to end: two app processes running as two
 * different users of one group share a store (each creates what the other
 * reads, updates and destroys), the directories keep the group (setgid)
 * and modes 2770, records are 0640, and a process outside the group, or one
 * without the option, is refused.
 *
 * Needs root, to run the children as other users (uid 12345 and 12346,
 * group nogroup, 65534).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { testKey } from '../helpers/manager.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const GROUP = 65534;
const [APP_A, APP_B] = [12345, 12346];
const isRoot = process.geteuid?.() === 0;

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function runAs(uid: number, job: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/stores/fixtures/fs-group-process.ts', JSON.stringify(job)], {
    uid,
    gid: GROUP,
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

it('lets two users of one group share a store with allowGroupWrite, and refuses everyone else', { skip: isRoot ? false : 'running processes as other users needs root', timeout: 120_000 }, async () => {
  const parent = await tempRoot('fs-shared-group');
  roots.push(parent);
  await chmod(parent, 0o711); // the app users may pass through, not list
  const root = join(parent, 'sessions');
  // As an operator would: install -d -m 2770 -o root -g nogroup <root>
  await mkdir(root);
  await chown(root, 0, GROUP);
  await chmod(root, 0o2770);
  const key = testKey().toString('base64');

  const strict = await runAs(APP_A, { mode: 'open-strict', root, key, ids: [] });
  assert.equal(strict.code, 'ERR_SESSION_STORE', 'without the option, a directory of another owner is refused');
  assert.match(String(strict.message), /owned by uid 0/);

  const { ids } = (await runAs(APP_A, { mode: 'create', root, key, ids: [] })) as { ids: string[] };
  assert.equal(ids.length, 3);
  const { listed } = (await runAs(APP_B, { mode: 'change', root, key, ids })) as { listed: string[] };
  assert.deepEqual(listed, ids.slice(1).sort(), 'B sees A\'s sessions in the by-user index and destroyed one');
  const { seen } = (await runAs(APP_A, { mode: 'read', root, key, ids })) as { seen: Record<string, unknown> };
  assert.equal(seen[ids[0]!], 'ERR_SESSION_NOT_FOUND', 'A sees B\'s destroy');
  for (const id of ids.slice(1)) assert.deepEqual(seen[id], { by: 'a', b: 1 }, 'A reads what B wrote');

  const [dirOwners, recordOwners] = [new Set<number>(), new Set<number>()];
  for (const name of await readdir(root, { recursive: true })) {
    const path = join(root, name);
    const info = await lstat(path);
    assert.equal(info.gid, GROUP, `${name} keeps the shared group`);
    if (info.isDirectory()) {
      assert.equal(info.mode & 0o7777, 0o2770, name);
      dirOwners.add(info.uid);
    } else if (/[0-9a-f]{64}\.[0-9]+\.[0-9]+$/.test(name)) {
      assert.equal(info.mode & 0o777, 0o640, name);
      recordOwners.add(info.uid);
    }
  }
  assert.deepEqual([...dirOwners], [APP_A], 'A made the directories');
  assert.deepEqual([...recordOwners], [APP_B], 'B replaced the records A had written there');
  for (const uid of [APP_A, APP_B]) assert.ok((await lstat(join(root, 'v1', `.anchor.${uid}.0`))).isFile(), `an anchor of uid ${uid}`);

  // This process (root, not in group 65534) must not trust a directory that group may write.
  await assert.rejects(new FilesystemStore({ path: root, fsync: false, allowGroupWrite: true }).open(), /writable by group 65534, which this process is not in/);
});
