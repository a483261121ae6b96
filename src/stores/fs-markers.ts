/**
 * The by-user index: `users/ab/<userTag>/<key>` names a record tagged with
 * that user. A marker holds no bytes and costs no inode: it is a hard link
 * to the anchor (fs-anchors.ts). A user's directory is removed when its
 * last marker goes, so the index holds directories only for users with
 * sessions.
 *
 * Markers are created before the record is written (so a crash leaves at
 * most a stale marker, never a missing one) and checked again after it is
 * published: listing may have pruned the marker (or its directory) as
 * stale in between, and it re-reads the record after removing a marker and
 * puts it back if the record carries the tag again. Between the two checks
 * no tagged record is left unlisted.
 */
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionStoreError } from '../errors.ts';
import type { Anchors } from './fs-anchors.ts';
import { toStoredRecord } from './fs-format.ts';
import { fsyncDir, isErrno, listNames, lstatIfPresent, unlinkIfPresent } from './fs-io.ts';
import type { RecordReader } from './fs-read.ts';
import type { StoreTree } from './fs-tree.ts';
import { isStoreKey, type KeyedRecord, type StoreKey } from './store.ts';

/** Rounds of making a user's directory again when a concurrent drop removed it between our mkdir and our link. */
const ADD_ATTEMPTS = 8;

export class UserIndex {
  readonly #tree: StoreTree;
  readonly #anchors: Anchors;
  readonly #reader: RecordReader;
  readonly #fsync: boolean;

  constructor(options: { tree: StoreTree; anchors: Anchors; reader: RecordReader; fsync: boolean }) {
    this.#tree = options.tree;
    this.#anchors = options.anchors;
    this.#reader = options.reader;
    this.#fsync = options.fsync;
  }

  async add(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
      const dir = (await this.#tree.userDir(userTag, true))!;
      let created: boolean;
      try {
        created = await this.#anchors.link(join(dir, key));
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue; // the directory was removed as we linked: make it again
        throw error;
      }
      if (created && this.#fsync) await fsyncDir(dir);
      return;
    }
    throw new SessionStoreError(`filesystem store: the user index directory of a record kept disappearing (${ADD_ATTEMPTS} attempts)`);
  }

  /**
   * After a record is published: its marker is still there (a concurrent drop may have removed it).
   * One lstat of the marker, without checking its directories again: add() checked them a moment
   * ago, and this only reads (if they were swapped for a link since, the next add or drop finds it).
   */
  async confirm(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    if ((await lstatIfPresent(join(this.#tree.layout.userDir(userTag), key))) === null) await this.add(userTag, key);
  }

  /**
   * Removes the marker of a deleted key: its tombstone refuses every writer, so nothing can carry
   * the tag again and there is nothing to re-check.
   */
  async dropDeleted(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    const dir = await this.#tree.userDir(userTag, false);
    if (dir !== null && (await unlinkIfPresent(join(dir, key)))) await this.#removeIfEmpty(dir);
  }

  /** Removes a marker, unless the record (re-read after) carries the tag again: a writer may be (re-)tagging it. */
  async drop(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    const dir = await this.#tree.userDir(userTag, false);
    if (dir !== null) await this.#dropStale(dir, userTag, key);
  }

  async #dropStale(dir: string, userTag: string, key: StoreKey): Promise<void> {
    if (!(await unlinkIfPresent(join(dir, key)))) return;
    await this.#removeIfEmpty(dir);
    const current = await this.#reader.current(key);
    if (current && current.decoded.userTag === userTag) await this.add(userTag, key);
  }

  async #removeIfEmpty(dir: string): Promise<void> {
    await rmdir(dir).catch((error: unknown) => {
      // Not empty (the user has other sessions) or already gone: both fine.
      if (!isErrno(error, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) throw error;
    });
  }

  async list(userTag: string, limit: number): Promise<KeyedRecord[]> {
    const result: KeyedRecord[] = [];
    const dir = await this.#tree.userDir(userTag, false);
    if (dir === null) return result;
    for (const key of await listNames(dir)) {
      if (result.length >= limit) break;
      if (!isStoreKey(key)) continue;
      const current = await this.#reader.current(key);
      // Markers may be stale (a crash, a tag change, a delete): the record is the truth.
      if (current && current.decoded.userTag === userTag) result.push({ key, record: toStoredRecord(current.decoded) });
      else await this.#dropStale(dir, userTag, key);
    }
    return result;
  }
}
