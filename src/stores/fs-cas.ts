/**
 * The compare-and-swap of the filesystem store, safe across processes
 * without locks:
 *
 * - A record file is written whole to a temp file, fsynced (if configured),
 *   and only then linked into place, so a reader or a crash sees a whole old
 *   file or a whole new one.
 * - To replace the current file, a writer first *takes* it: rename() to a
 *   name of its own. Rename of one existing name succeeds for one process
 *   only, so exactly one writer replaces each file. It then link()s the new
 *   file (EEXIST refuses a second publisher of a name) and removes the taken
 *   one. Readers read a taken file as current until the new one appears; a
 *   file taken by a process that died is taken over by the next writer.
 * - After publishing, a writer looks for a tombstone and withdraws if there
 *   is one, so no late writer revives a deleted record (fs-tombstones.ts).
 */
import { link, lstat, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { SessionStoreError } from '../errors.ts';
import { fsyncDir, isErrno, listNames, processAlive, unlinkIfPresent, writeNewFile } from './fs-io.ts';
import { filesOfKey, takenName, tempName, versionName, type KeyFiles, type VersionName } from './fs-layout.ts';
import type { StoreTree } from './fs-tree.ts';
import type { StoreKey } from './store.ts';

/** Rounds a writer waits for another writer's take to finish before giving up. */
const TAKE_ATTEMPTS = 200;

export type Outcome = 'won' | 'lost' | 'dead';

export interface Target {
  readonly version: number;
  readonly touchSeq: number;
}

function publishedName(file: VersionName): string {
  return versionName(file.name.slice(0, 64), file.version, file.touchSeq);
}

export class RecordWriter {
  readonly #tree: StoreTree;
  readonly #fsync: boolean;
  readonly #wallClock: () => number;
  readonly #staleTakeMs: number;

  constructor(options: { tree: StoreTree; fsync: boolean; wallClock: () => number; staleTakeMs: number }) {
    this.#tree = options.tree;
    this.#fsync = options.fsync;
    this.#wallClock = options.wallClock;
    this.#staleTakeMs = options.staleTakeMs;
  }

  /** Writes `bytes` to a new temp file in the shard directory of `key` (made, and checked again, if it vanished). */
  async writeTemp(dir: string, key: StoreKey, bytes: Buffer): Promise<string> {
    const { fileMode, chmodFiles } = this.#tree.policy;
    const path = join(dir, tempName(key));
    try {
      await writeNewFile(path, bytes, this.#fsync, fileMode, chmodFiles);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await this.#tree.shardDir(key, true);
      await writeNewFile(path, bytes, this.#fsync, fileMode, chmodFiles);
    }
    return path;
  }

  /**
   * Takes the current file (if `decide` accepts it) and publishes `temp` as
   * the target `decide` names. 'lost' when the current file is not the one
   * the caller expected, 'dead' when the key was deleted.
   */
  async replace(dir: string, key: StoreKey, temp: string, listed: KeyFiles | null, decide: (top: VersionName) => Target | null): Promise<Outcome> {
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      const files = attempt === 0 && listed ? listed : filesOfKey(await listNames(dir), key);
      if (files.dead) return 'dead';
      const top = files.versions[0];
      if (!top) return 'lost';
      const target = decide(top);
      if (!target) return 'lost';
      if (top.takenBy !== null && !(await this.takeable(dir, top))) {
        // Another writer is between its take and its publish (two syscalls): wait a moment.
        await sleep(Math.min(20, 2 ** Math.min(attempt, 5) / 4));
        continue;
      }
      const taken = join(dir, takenName(top));
      try {
        await rename(join(dir, top.name), taken);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue; // someone else took or deleted it first
        throw error;
      }
      // From here until we publish or give it back, only a delete (or a taker of a stale file) can move `taken`.
      let outcome: Outcome;
      try {
        outcome = await this.publish(dir, key, temp, target);
      } catch (error) {
        // Give the record back under its published name so other writers need not wait for it to go stale.
        await rename(taken, join(dir, publishedName(top))).catch(() => {});
        throw error;
      }
      await unlinkIfPresent(taken);
      return outcome;
    }
    throw new SessionStoreError(`filesystem store: record stayed taken by another writer (${TAKE_ATTEMPTS} attempts)`);
  }

  /** A taken file may be taken over when its taker is gone (crashed) or has stalled for staleTakeMs. */
  async takeable(dir: string, file: VersionName): Promise<boolean> {
    if (file.takenBy === null || !processAlive(file.takenBy)) return true;
    try {
      const info = await lstat(join(dir, file.name));
      return this.#wallClock() - info.ctimeMs > this.#staleTakeMs;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return true; // gone: the next round sees what replaced it
      throw error;
    }
  }

  /**
   * link() `temp` to the target's name, then checks what happened around it:
   * a tombstone means a delete got in (withdraw); a file ranking above ours
   * while ours is still in place means the name was free only because an
   * earlier holder of it had already been replaced (withdraw). If ours is
   * gone, a later writer took it: it was current, so we won.
   */
  async publish(dir: string, key: StoreKey, temp: string, target: Target): Promise<Outcome> {
    const name = versionName(key, target.version, target.touchSeq);
    const path = join(dir, name);
    try {
      await link(temp, path);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return 'lost';
      throw error;
    }
    const after = filesOfKey(await listNames(dir), key);
    const oursInPlace = after.versions.some((f) => f.name === name);
    if (after.dead) {
      if (oursInPlace) await unlinkIfPresent(path);
      return 'dead';
    }
    if (oursInPlace && after.versions[0]?.name !== name) {
      await unlinkIfPresent(path);
      return 'lost';
    }
    if (this.#fsync) await fsyncDir(dir);
    return 'won';
  }
}
