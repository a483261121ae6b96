/**
 * Tombstones and by-user markers carry no bytes: only their names matter.
 * As empty files of their own each would still cost an inode; as hard links
 * to one empty "anchor" file (`v1/.anchor.<uid>.<n>`) they cost a directory
 * entry and nothing else, and link() refuses an existing name (EEXIST) just
 * as O_EXCL did.
 *
 * - One anchor per user: Linux's fs.protected_hardlinks lets a process link
 *   only files it owns (or may read and write), and in a group-shared store
 *   each user links its own.
 * - A filesystem caps the links of one inode (ext4 65 000, btrfs 65 535):
 *   on EMLINK the next anchor is made and used.
 * - An anchor found with bytes in it, or owned by someone else, is skipped
 *   (reported), so a tombstone or marker never shows anyone's bytes.
 * - Because all links share one inode, its times say nothing about one
 *   tombstone: a tombstone's name carries the moment of its delete.
 */
import { link, lstat } from 'node:fs/promises';
import { SessionStoreError } from '../errors.ts';
import { createEmptyFile, fsyncDir, isErrno, lstatIfPresent } from './fs-io.ts';
import type { Layout } from './fs-layout.ts';

/** Anchors tried before giving up: 10 000 × 65 000 links is far more than any store holds. */
const MAX_ANCHORS = 10_000;

export class Anchors {
  readonly #layout: Layout;
  readonly #uid: number | null;
  readonly #fsync: boolean;
  readonly #report: (error: Error) => void;
  /** The anchor in use, and whether this process has checked it. */
  #index = 0;
  #checked = -1;

  constructor(options: { layout: Layout; uid: number | null; fsync: boolean; report: (error: Error) => void }) {
    this.#layout = options.layout;
    this.#uid = options.uid;
    this.#fsync = options.fsync;
    this.#report = options.report;
  }

  /**
   * Makes `path` a new name of the anchor: true when this call made it,
   * false when `path` exists already. ENOENT passes through when the
   * directory of `path` does not exist (the caller makes it and retries).
   */
  async link(path: string): Promise<boolean> {
    for (let rounds = 0; rounds < MAX_ANCHORS; rounds++) {
      const index = this.#index;
      const anchor = await this.#usable(index);
      if (anchor === null) {
        this.#advance(index);
        continue;
      }
      try {
        await link(anchor, path);
        return true;
      } catch (error) {
        if (isErrno(error, 'EEXIST')) return false;
        if (isErrno(error, 'EMLINK')) {
          this.#advance(index);
          continue;
        }
        if (isErrno(error, 'ENOENT') && (await lstatIfPresent(anchor)) === null) {
          if (this.#checked === index) this.#checked = -1; // the anchor itself was removed: make it again
          continue;
        }
        throw error;
      }
    }
    throw new SessionStoreError(`filesystem store: no usable anchor file among ${MAX_ANCHORS} in ${JSON.stringify(this.#layout.base)}`);
  }

  #advance(from: number): void {
    // Concurrent callers that hit the same full anchor move on once, not once each.
    if (this.#index === from) this.#index = from + 1;
  }

  /** The path of anchor `index`, made if missing; null when what is there is not an empty file of this user. */
  async #usable(index: number): Promise<string | null> {
    const path = this.#layout.anchor(this.#uid ?? 0, index);
    if (this.#checked === index) return path;
    if ((await createEmptyFile(path, 0o600)) && this.#fsync) await fsyncDir(this.#layout.base);
    const info = await lstat(path);
    if (!info.isFile() || info.size !== 0 || (this.#uid !== null && info.uid !== this.#uid)) {
      this.#report(new SessionStoreError(`filesystem store skips anchor ${JSON.stringify(path)}: not an empty file owned by uid ${this.#uid}; it uses the next one`));
      return null;
    }
    if (this.#index === index) this.#checked = index;
    return path;
  }
}
