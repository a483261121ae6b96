/**
 * Disk bytes and inodes the filesystem store spends per login.
 *
 *   node --import tsx scripts/measure-fs-disk.ts [--logins 2000] [--users 2000] [--dir /path]
 *
 * A login is what the example app does (examples/routes.ts): create a
 * session for the user, put the user's fields in it, regenerate it (a new
 * id; the old one is destroyed). `--users` spreads the logins over that many
 * user ids (default: one user per login, the worst case for the by-user
 * index; `--users 1` is one user logging in again and again).
 *
 * Measured on the store's root before and after the logins with du (disk
 * usage in blocks, hard links counted once; inodes) and with a walk that
 * splits the same totals by kind (record, tombstone, marker, directory, …),
 * so the steady state after the tombstones' grace period (1 h) can be read
 * off too. fsync is off: it changes durability, not what ends up on disk.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSessionManager } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '2000' },
    users: { type: 'string' },
    dir: { type: 'string' },
  },
});
const LOGINS = Number(values.logins);
const USERS = Number(values.users ?? values.logins);
assert.ok(Number.isSafeInteger(LOGINS) && LOGINS > 0, '--logins must be a positive integer');
assert.ok(Number.isSafeInteger(USERS) && USERS > 0, '--users must be a positive integer');

type Kind = 'record' | 'tombstone' | 'marker' | 'directory' | 'other';

interface Usage {
  /** du -s -B1: bytes of disk blocks, each inode counted once. */
  readonly duBytes: number;
  /** du -s --inodes. */
  readonly duInodes: number;
  /** The walk's split: distinct inodes and their block bytes, by the kind of the first name seen for each. */
  readonly byKind: Record<Kind, { inodes: number; bytes: number; names: number }>;
}

function du(path: string, flag: string): number {
  return Number(execFileSync('du', ['-s', flag, path]).toString().split('\t')[0]);
}

function kindOf(relative: string, isDirectory: boolean): Kind {
  if (isDirectory) return 'directory';
  const name = relative.split('/').at(-1)!;
  if (relative.startsWith('v1/users/')) return 'marker';
  if (/^[0-9a-f]{64}\.dead(\.|$)/.test(name)) return 'tombstone';
  if (/^[0-9a-f]{64}\.[0-9]+\.[0-9]+$/.test(name)) return 'record';
  return 'other';
}

async function usage(root: string): Promise<Usage> {
  const byKind = Object.fromEntries(
    (['record', 'tombstone', 'marker', 'directory', 'other'] as const).map((k) => [k, { inodes: 0, bytes: 0, names: 0 }]),
  ) as Usage['byKind'];
  const seen = new Set<number>();
  const visit = async (dir: string, relative: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const rel = relative ? `${relative}/${name}` : name;
      const info = await lstat(path);
      const kind = kindOf(rel, info.isDirectory());
      byKind[kind].names++;
      if (!seen.has(info.ino)) {
        seen.add(info.ino);
        byKind[kind].inodes++;
        byKind[kind].bytes += info.blocks * 512;
      }
      if (info.isDirectory()) await visit(path, rel);
    }
  };
  await visit(root, '');
  return { duBytes: du(root, '-B1'), duInodes: du(root, '--inodes'), byKind };
}

function fsType(path: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path]).toString().trim();
  } catch {
    return 'unknown';
  }
}

const base = values.dir ?? tmpdir();
const root = await mkdtemp(join(base, 'rockstar-measure-disk-'));
const manager = await createSessionManager({
  storageType: 'filesystem',
  filesystemPath: root,
  filesystem: { fsync: false },
  encryptionKey: randomBytes(32),
  cleanupInterval: 0,
  crypto: { mode: 'inline' },
});
try {
  const before = await usage(root);
  for (let i = 0; i < LOGINS; i++) {
    const userId = `user-${i % USERS}`;
    const ctx = { userId, ipAddress: '198.51.100.7', userAgent: 'measure-fs-disk', appendSetCookie: () => {} };
    const session = await manager.create(ctx);
    session.userId = userId;
    Object.assign(session.data, { user_id: userId, username: `name-${i % USERS}`, roles: ['user'], login_time: new Date() });
    const moved = await manager.regenerate(ctx, session);
    if (i === 0) assert.equal((await manager.load(ctx, moved.id)).data.user_id, userId, 'the regenerated session loads');
  }
  const after = await usage(root);
  const per = (a: number, b: number): string => ((a - b) / LOGINS).toFixed(2);
  console.log(`Node ${process.version}, ${root} on ${fsType(root)}, ${LOGINS} logins over ${USERS} user(s) (create + regenerate, as examples/routes.ts)`);
  console.log(`du per login: ${per(after.duBytes, before.duBytes)} bytes, ${per(after.duInodes, before.duInodes)} inodes`);
  const rows = (Object.keys(after.byKind) as Kind[]).map((kind) => ({
    kind,
    'names per login': per(after.byKind[kind].names, before.byKind[kind].names),
    'inodes per login': per(after.byKind[kind].inodes, before.byKind[kind].inodes),
    'bytes per login': per(after.byKind[kind].bytes, before.byKind[kind].bytes),
  }));
  console.table(rows);
  const files = (['record', 'tombstone', 'marker', 'other'] as const).reduce(
    (sum, kind) => ({ inodes: sum.inodes + after.byKind[kind].inodes - before.byKind[kind].inodes, bytes: sum.bytes + after.byKind[kind].bytes - before.byKind[kind].bytes }),
    { inodes: 0, bytes: 0 },
  );
  // Shard directories (at most 65 536 + 256) and per-user directories are shared: a warm store has them already.
  console.log(`files only (directories excluded): ${(files.bytes / LOGINS).toFixed(2)} bytes, ${(files.inodes / LOGINS).toFixed(2)} inodes per login`);
  const tombstones = after.byKind.tombstone;
  console.log(
    `after the tombstone grace period (tombstones removed by cleanup): ${((after.duBytes - before.duBytes - tombstones.bytes) / LOGINS).toFixed(2)} bytes, ` +
      `${((after.duInodes - before.duInodes - tombstones.inodes) / LOGINS).toFixed(2)} inodes per login`,
  );
} finally {
  await manager.close();
  await rm(root, { recursive: true, force: true });
}
