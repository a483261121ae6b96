/**
 * Directory primitives of the filesystem store: look at a directory without
 * following links (and judge it by fs-trust.ts), create one with exactly the
 * policy's mode, remove a symlink found where a directory should be.
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, open, readlink, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, isErrno, lstatIfPresent } from './fs-io.ts';
import { distrust, type Distrust, type TrustPolicy } from './fs-trust.ts';

export type DirState =
  | { readonly kind: 'directory'; readonly info: Stats }
  | { readonly kind: 'missing' }
  | { readonly kind: 'symlink' }
  /** A file, FIFO, socket or device where a directory should be. */
  | { readonly kind: 'other'; readonly info: Stats }
  | { readonly kind: 'distrusted'; readonly info: Stats; readonly reason: Distrust };

/** What is at `path`, never following a symlink there. */
export async function inspectDir(path: string, policy: TrustPolicy): Promise<DirState> {
  const info = await lstatIfPresent(path);
  if (info === null) return { kind: 'missing' };
  if (info.isSymbolicLink()) return { kind: 'symlink' };
  if (!info.isDirectory()) return { kind: 'other', info };
  const reason = distrust(path, info, policy);
  return reason ? { kind: 'distrusted', info, reason } : { kind: 'directory', info };
}

/**
 * Creates `path` (and any missing parent) with the policy's directory mode,
 * set again with fchmod afterwards so that the umask cannot narrow it or drop
 * the setgid bit. With `durable`, the parent of each directory created is
 * fsynced. False when it already existed (the caller looks at what is there).
 *
 * Not mkdir({ recursive: true }): on Node 20 that spins forever where mkdir
 * keeps answering ENOENT (e.g. under /proc), and a store must fail, not hang.
 */
export async function makeDir(path: string, policy: TrustPolicy, durable: boolean): Promise<boolean> {
  try {
    await mkdir(path, { mode: policy.dirMode });
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    const parent = dirname(path);
    if (!isErrno(error, 'ENOENT') || parent === path) throw error;
    await makeDir(parent, policy, durable);
    try {
      await mkdir(path, { mode: policy.dirMode });
    } catch (again) {
      if (isErrno(again, 'EEXIST')) return false;
      throw again; // still ENOENT: this parent cannot hold directories
    }
  }
  // fchmod through a descriptor opened without following links: what we chmod is the directory we made.
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.chmod(policy.dirMode);
  } finally {
    await handle.close();
  }
  if (durable) await fsyncDir(dirname(path));
  return true;
}

/** What a symlink points to, for a report: printable and short, never followed. */
export async function linkTarget(path: string): Promise<string> {
  try {
    const target = await readlink(path);
    return JSON.stringify(target.length > 200 ? `${target.slice(0, 200)}…` : target);
  } catch {
    return 'an unreadable target';
  }
}

/** Removes the symlink at `path` (never its target). False when something else has taken its place meanwhile. */
export async function removeSymlink(path: string): Promise<boolean> {
  const info = await lstatIfPresent(path);
  if (info === null) return true;
  if (!info.isSymbolicLink()) return false;
  try {
    await unlink(path); // unlink never follows the last component
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return true;
    if (isErrno(error, 'EISDIR', 'EPERM')) return false; // replaced by a directory between lstat and unlink
    throw error;
  }
}
