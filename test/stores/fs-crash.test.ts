/**
 * A writer process killed with SIGKILL in the middle of its write loop: every
 * record afterwards is the old version or the new one (never torn), every
 * session loads and decrypts, the next writer takes over what the dead one
 * left taken, and cleanup sweeps its orphaned temp files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { decodeRecordFile } from '../../src/stores/fs-format.ts';
import { TEMP_PREFIX } from '../../src/stores/fs-layout.ts';
import { testKey } from '../helpers/manager.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const ctx = { appendSetCookie: () => {} };
const KILLS = 5;

/** Starts the write loop, waits until it has completed `rounds` rounds plus a little, and kills it mid-flight. */
async function killWriterMidLoop(job: Record<string, unknown>, rounds: number, extraMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/stores/fixtures/fs-node-process.ts', JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if ((JSON.parse(line) as { round: number }).round >= rounds) resolve();
    });
    child.on('exit', () => reject(new Error('writer exited before it was killed')));
  });
  // Timers, not a wait for expiry: this only moves the kill to a random point inside the next round.
  setTimeout(() => process.kill(child.pid!, 'SIGKILL'), extraMs);
  assert.equal(await exited, 'SIGKILL');
  clearTimeout(deadline);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

it('leaves every record whole (old or new) when a writer is SIGKILLed mid-write, and the next writer carries on', async (t) => {
  const root = await tempRoot('fs-crash');
  roots.push(root);
  const key = testKey();
  const config = { storageType: 'filesystem', filesystemPath: root, encryptionKey: key, cleanupInterval: 0, crypto: { mode: 'inline' }, cache: { staleMs: 0 } } as const;
  const setup = await createSessionManager(config);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await setup.create(ctx)).id);
  await setup.close();

  const lastSeen = new Map<string, number>();
  let leftovers = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    await killWriterMidLoop({ mode: 'write-loop', root, key: key.toString('base64'), ids, node: 'w', ops: 0, staleMs: 0, fsync: kill % 2 === 0 }, 2, 3 + kill * 7);

    // On disk: every record file decodes whole under its own name.
    for (const path of await filesUnder(join(root, 'v1'))) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (name.startsWith(TEMP_PREFIX)) {
        leftovers++;
        continue;
      }
      if (!/^[0-9a-f]{64}\./.test(name)) continue; // user markers and the like
      if (name.includes('~')) leftovers++;
      const decoded = decodeRecordFile(name.slice(0, 64), await readFile(path));
      assert.ok(decoded, `${name} is a whole record`);
    }

    // Through the manager: every session loads, decrypts, and never went backwards.
    const manager = await createSessionManager(config);
    try {
      for (const id of ids) {
        const session = await manager.load(ctx, id);
        const n = session.data.n as number | undefined;
        assert.ok(n === undefined || Number.isInteger(n));
        assert.ok((n ?? 0) >= (lastSeen.get(id) ?? 0), 'no record went back to an older version');
        lastSeen.set(id, n ?? 0);
        if (session.data.blob !== undefined) assert.match(session.data.blob as string, /^x+$/);
        // Whatever the dead writer had taken, this write must not wait on it for long nor fail.
        await manager.update(id, 'n', (value) => ((value as number | undefined) ?? 0) + 1);
        lastSeen.set(id, (n ?? 0) + 1);
      }
    } finally {
      await manager.close();
    }
  }

  // Cleanup removes what dead writers left behind: orphaned temps and taken files.
  const manager = await createSessionManager(config);
  try {
    await manager.cleanupExpired();
    for (const path of await filesUnder(join(root, 'v1'))) {
      assert.ok(!path.includes(TEMP_PREFIX) && !path.includes('~'), `${path} was swept`);
    }
    for (const id of ids) assert.equal((await manager.load(ctx, id)).data.n, lastSeen.get(id));
  } finally {
    await manager.close();
  }
  t.diagnostic(`${KILLS} kills left ${leftovers} temp or taken files behind, all recovered`);
});
