/**
 * Deleting a key for good, across processes, without keeping its bytes.
 *
 * delete() first makes the tombstone `<key>.dead.<ms>`: a hard link to the
 * empty anchor (fs-anchors.ts), so it holds no bytes and costs no inode.
 * From that instant the key reads as missing everywhere and every writer
 * refuses it: a take lists the tombstone and stops, and a writer that had
 * already taken the file finds the tombstone when it checks after
 * publishing, and withdraws (fs-cas.ts). Then every record file of the key
 * (current, taken, older) is unlinked, so the sealed record is gone from the
 * directory at once, not at the end of the tombstone's grace period.
 *
 * A file published before the tombstone appeared is listed by that second
 * step and removed; one published after it is withdrawn by its publisher.
 * The tombstone stays `tombstoneGraceMs` (1 h), for writers still between
 * their take and their check; cleanup then removes it.
 */
import { join } from 'node:path';
import type { Anchors } from './fs-anchors.ts';
import { fsyncDir, listNames, lstatIfPresent, unlinkIfPresent } from './fs-io.ts';
import { filesOfKey, tombstoneName, type KeyFiles } from './fs-layout.ts';
import type { UserIndex } from './fs-markers.ts';
import type { RecordReader } from './fs-read.ts';
import type { StoreTree } from './fs-tree.ts';
import type { StoreKey } from './store.ts';

export class Tombstones {
  readonly #tree: StoreTree;
  readonly #anchors: Anchors;
  readonly #reader: RecordReader;
  readonly #index: UserIndex;
  readonly #fsync: boolean;
  readonly #wallClock: () => number;
  readonly #graceMs: number;

  constructor(options: { tree: StoreTree; anchors: Anchors; reader: RecordReader; index: UserIndex; fsync: boolean; wallClock: () => number; graceMs: number }) {
    this.#tree = options.tree;
    this.#anchors = options.anchors;
    this.#reader = options.reader;
    this.#index = options.index;
    this.#fsync = options.fsync;
    this.#wallClock = options.wallClock;
    this.#graceMs = options.graceMs;
  }

  async delete(key: StoreKey): Promise<void> {
    const dir = await this.#tree.shardDir(key, false);
    if (dir === null) return;
    const files = filesOfKey(await listNames(dir), key);
    if (!files.dead) {
      if (files.versions.length === 0) return; // nothing to delete: deleting a missing key changes nothing
      // EEXIST: another delete made this very name in the same millisecond; the key is dead either way.
      await this.#anchors.link(join(dir, tombstoneName(key, this.#wallClock())));
      if (this.#fsync) await fsyncDir(dir);
    }
    await this.#removeRecords(dir, key);
  }

  /** Every record file of a dead key goes, and with it the user markers of the tags they carried. */
  async #removeRecords(dir: string, key: StoreKey): Promise<void> {
    const tags = new Set<string>();
    for (const file of filesOfKey(await listNames(dir), key).versions) {
      const header = await this.#reader.header(dir, key, file);
      if (header !== null && header !== 'bad' && header.userTag !== null) tags.add(header.userTag);
      await unlinkIfPresent(join(dir, file.name));
    }
    for (const tag of tags) await this.#index.dropDeleted(tag, key);
  }

  /**
   * Cleanup of a dead key: leftovers of writers are removed; a tombstone of
   * the older format (it holds the record) is replaced by an empty one at
   * once; a tombstone past its grace period goes.
   */
  async sweepDead(dir: string, key: StoreKey, files: KeyFiles): Promise<void> {
    if (files.versions.length > 0) await this.#removeRecords(dir, key);
    const now = this.#wallClock();
    for (const tombstone of files.tombstones) {
      const path = join(dir, tombstone.name);
      if (tombstone.deletedAt === null) {
        // An older version's tombstone is the destroyed record itself; its rename set its ctime at the delete.
        const info = await lstatIfPresent(path);
        if (info === null) continue;
        if (now - info.ctimeMs <= this.#graceMs) {
          await this.#anchors.link(join(dir, tombstoneName(key, info.ctimeMs)));
          if (this.#fsync) await fsyncDir(dir);
        }
        await unlinkIfPresent(path);
      } else if (now - tombstone.deletedAt > this.#graceMs) {
        await unlinkIfPresent(path);
      }
    }
  }
}
