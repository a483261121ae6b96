/**
 * Where the filesystem store keeps things, and what its file names mean.
 *
 *   <root>/v1/ab/cd/<key>.<version>.<touch>   the record (normally the only file of its key)
 *   <root>/v1/ab/cd/<key>.<v>.<t>~<pid>.<id>  the record, taken by a writer that is replacing it
 *   <root>/v1/ab/cd/<key>.dead.<ms>           tombstone: the key was deleted at <ms>, for good (no bytes)
 *   <root>/v1/ab/cd/<key>.dead                tombstone of an older version of the store (holds the record)
 *   <root>/v1/ab/cd/.tmp.<key>.<pid>.<n>      a write in progress (or orphaned by a crash)
 *   <root>/v1/users/ab/<userTag>/<key>         by-user index marker (no bytes)
 *   <root>/v1/quarantine/<name>.<ms>.<rand>   corrupt or foreign files, moved aside at <ms>
 *   <root>/v1/.anchor.<uid>.<n>               the empty file tombstones and markers are hard links to
 *
 * `ab/cd` are the first four hex characters of the key. Only validated
 * 64-hex store keys and 32-hex tags ever reach these functions, so no name
 * can climb out of the root.
 */
import { join } from 'node:path';
import type { StoreKey } from './store.ts';

export const LAYOUT_DIR = 'v1';
export const USERS_DIR = 'users';
export const QUARANTINE_DIR = 'quarantine';
export const TEMP_PREFIX = '.tmp.';
export const TOMBSTONE_SUFFIX = '.dead';
const ANCHOR_PREFIX = '.anchor.';

export interface VersionName {
  readonly name: string;
  readonly version: number;
  readonly touchSeq: number;
  /** Set when a writer has taken this file (renamed it to its own name) and is replacing it. */
  readonly takenBy: number | null;
}

export interface TombstoneName {
  readonly name: string;
  /** When the key was deleted (ms, from the name); null for a tombstone of the older format, aged by its ctime. */
  readonly deletedAt: number | null;
}

/** What one shard directory holds for one key. */
export interface KeyFiles {
  /** Record version files, highest (current) first. */
  readonly versions: VersionName[];
  readonly tombstones: TombstoneName[];
  /** A tombstone is present: the key is deleted, whatever else is there. */
  readonly dead: boolean;
}

export class Layout {
  readonly root: string;
  readonly base: string;
  readonly usersDir: string;
  readonly quarantineDir: string;

  constructor(root: string) {
    this.root = root;
    this.base = join(root, LAYOUT_DIR);
    this.usersDir = join(this.base, USERS_DIR);
    this.quarantineDir = join(this.base, QUARANTINE_DIR);
  }

  shardDir(key: StoreKey): string {
    return join(this.base, key.slice(0, 2), key.slice(2, 4));
  }

  userDir(userTag: string): string {
    return join(this.usersDir, userTag.slice(0, 2), userTag);
  }

  /** The n-th empty anchor file of the user `uid`: see fs-anchors.ts. */
  anchor(uid: number, n: number): string {
    return join(this.base, `${ANCHOR_PREFIX}${uid}.${n}`);
  }
}

export function versionName(key: StoreKey, version: number, touchSeq: number): string {
  return `${key}.${version}.${touchSeq}`;
}

/** A tombstone's name carries the moment of the delete: tombstones are hard links to one shared inode, whose times say nothing of one delete. */
export function tombstoneName(key: StoreKey, deletedAt: number): string {
  return `${key}${TOMBSTONE_SUFFIX}.${Math.max(0, Math.floor(deletedAt))}`;
}

const TOMBSTONE = /^\.dead(?:\.(0|[1-9][0-9]{0,15}))?$/;

/** Parses a tombstone's suffix (after the 64-hex key); null if it is not one. */
function parseTombstoneSuffix(name: string, suffix: string): TombstoneName | null {
  const match = TOMBSTONE.exec(suffix);
  if (!match) return null;
  return { name, deletedAt: match[1] === undefined ? null : Number(match[1]) };
}

let nameCounter = 0;
function nextId(): string {
  nameCounter = (nameCounter + 1) % 0x7fffffff;
  return `${nameCounter.toString(36)}${Math.floor(Math.random() * 0x7fffffff).toString(36)}`;
}

export function tempName(key: StoreKey): string {
  return `${TEMP_PREFIX}${key}.${process.pid}.${nextId()}`;
}

/** The name a writer renames the current file to while it replaces it: unique, and naming the taking process. */
export function takenName(file: VersionName): string {
  const published = file.name.slice(0, 64) + `.${file.version}.${file.touchSeq}`;
  return `${published}~${process.pid}.${nextId()}`;
}

/**
 * (version, touch) order: a later touch of one version sorts after it, any
 * higher version after all its touches. A taken file sorts just above a
 * published one of the same (version, touch). They coexist only when a name
 * was published a second time after its first holder had been taken (a
 * writer stalled past staleTakeMs, or a re-insert): the taken one is the
 * real lineage, so the late publisher sees it above its own file and withdraws.
 */
export function compareVersions(a: VersionName, b: VersionName): number {
  return a.version - b.version || a.touchSeq - b.touchSeq || (a.takenBy === null ? 0 : 1) - (b.takenBy === null ? 0 : 1);
}

const VERSION_SUFFIX = /^\.([1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})(?:~([1-9][0-9]{0,9})\.([0-9a-z]{1,24}))?$/;

/** Parses `<key>.<version>.<touch>[~<pid>.<id>]`'s suffix (after the 64-hex key); null if it is not one. */
export function parseVersionSuffix(name: string, suffix: string): VersionName | null {
  const match = VERSION_SUFFIX.exec(suffix);
  if (!match) return null;
  const version = Number(match[1]);
  const touchSeq = Number(match[2]);
  if (version > 0xffffffff || touchSeq > 0xffffffff) return null;
  return { name, version, touchSeq, takenBy: match[3] === undefined ? null : Number(match[3]) };
}

/** The files of `key` among a shard directory's names. Names of other keys, temps and strays are skipped. */
export function filesOfKey(names: readonly string[], key: StoreKey): KeyFiles {
  const versions: VersionName[] = [];
  const tombstones: TombstoneName[] = [];
  for (const name of names) {
    if (name.length <= 64 || !name.startsWith(key)) continue;
    const suffix = name.slice(64);
    if (suffix.startsWith(TOMBSTONE_SUFFIX)) {
      const tombstone = parseTombstoneSuffix(name, suffix);
      if (tombstone) tombstones.push(tombstone);
    } else {
      const parsed = parseVersionSuffix(name, suffix);
      if (parsed) versions.push(parsed);
    }
  }
  if (versions.length > 1) versions.sort((a, b) => compareVersions(b, a));
  return { versions, tombstones, dead: tombstones.length > 0 };
}
