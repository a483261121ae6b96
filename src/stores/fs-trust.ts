/**
 * Which directories the filesystem store trusts, and the modes it creates.
 *
 * Whoever can write in a directory of the store can replace, delete or
 * redirect the sessions in it (a symlink planted there sends writes
 * anywhere the writer likes). So every directory of the store must be
 * owned by this process's user and writable by nobody else; or, with
 * `allowGroupWrite`, writable by one group this process belongs to (its
 * members are then trusted like this user). Writable by every user: never.
 *
 * Pure decisions over lstat results; the I/O is in fs-tree.ts.
 */
import type { Stats } from 'node:fs';
import { SessionStoreError } from '../errors.ts';

const WORLD_WRITE = 0o002;
const GROUP_WRITE = 0o020;

export interface TrustPolicy {
  readonly allowGroupWrite: boolean;
  /** Mode of the directories the store creates, set with chmod so the umask cannot change it. */
  readonly dirMode: number;
  /** Mode of the files the store creates. */
  readonly fileMode: number;
  /** Files need a chmod after creation: the umask may have taken the group's read bit. */
  readonly chmodFiles: boolean;
  /** This process's effective uid, or null on a platform without POSIX owners (then nothing is checked). */
  readonly uid: number | null;
  /** Its effective and supplementary groups. */
  readonly groups: ReadonlySet<number>;
}

export function trustPolicy(allowGroupWrite: boolean): TrustPolicy {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : null;
  const groups = new Set<number>();
  if (typeof process.getegid === 'function') groups.add(process.getegid());
  if (typeof process.getgroups === 'function') for (const gid of process.getgroups()) groups.add(gid);
  return allowGroupWrite
    ? { allowGroupWrite, dirMode: 0o2770, fileMode: 0o640, chmodFiles: true, uid, groups }
    : { allowGroupWrite, dirMode: 0o700, fileMode: 0o600, chmodFiles: false, uid, groups };
}

/** What is wrong with trusting this directory, and how to fix it; null when it may be trusted. */
export interface Distrust {
  readonly problem: string;
  readonly fix: string;
}

function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Why the directory at `path` (lstat'ed as `info`) must not be trusted, or null. */
export function distrust(path: string, info: Stats, policy: TrustPolicy): Distrust | null {
  if (policy.uid === null) return null;
  const quoted = shellQuote(path);
  const groupOption = 'or, for a store shared by a group, set filesystem.allowGroupWrite: true (group-writable is then accepted, world-writable never)';
  if (info.mode & WORLD_WRITE) {
    return { problem: 'it is writable by every user', fix: `remove that (chmod o-w ${quoted})` };
  }
  const ownGroup = policy.groups.has(info.gid);
  if (!policy.allowGroupWrite) {
    if (info.uid !== policy.uid) {
      return { problem: `it is owned by uid ${info.uid}, not by this process's user (uid ${policy.uid})`, fix: `give it to this user (chown ${policy.uid} ${quoted}) or run the app as its owner, ${groupOption}` };
    }
    if (info.mode & GROUP_WRITE) {
      return { problem: `it is writable by group ${info.gid}`, fix: `remove that (chmod g-w ${quoted}), ${groupOption}` };
    }
    return null;
  }
  if (info.uid !== policy.uid && !ownGroup) {
    return {
      problem: `it is owned by uid ${info.uid} and group ${info.gid}: neither this process's user (uid ${policy.uid}) nor one of its groups (${[...policy.groups].join(', ')})`,
      fix: `give it to this user or to the group that shares the store (chown ${policy.uid} ${quoted}, or chgrp GROUP ${quoted})`,
    };
  }
  if (info.mode & GROUP_WRITE && !ownGroup) {
    return {
      problem: `it is writable by group ${info.gid}, which this process is not in (its groups: ${[...policy.groups].join(', ')})`,
      fix: `give it the group that shares the store (chgrp GROUP ${quoted}) or remove the group's write access (chmod g-w ${quoted})`,
    };
  }
  return null;
}

/** The ERR_SESSION_STORE for a directory the store will not use. */
export function refusal(label: string, path: string, info: Stats | null, reason: Distrust): SessionStoreError {
  const found = info ? ` (owner uid ${info.uid}, group ${info.gid}, mode ${modeText(info.mode)})` : '';
  return new SessionStoreError(`filesystem store refuses ${label} ${JSON.stringify(path)}${found}: ${reason.problem}. To use it, ${reason.fix}`);
}
