/**
 * The filesystem store's directories, checked before they are used.
 *
 * open() refuses a root, `v1`, `users` or `quarantine` (and any shard or
 * user directory it finds one level below) that this process must not
 * trust (fs-trust.ts). After that, every operation checks, with lstat and
 * without following anything, each directory between `v1` and the file it
 * touches (`ab`, `ab/cd`; `users/ab`, `users/ab/<tag>`) before using it:
 *
 * - a symlink there is removed (never followed; its target is untouched)
 *   and reported through onError, and the directory then reads as absent
 *   (a write makes a real one);
 * - a file or FIFO there is moved to the quarantine;
 * - a directory with a foreign owner or loose mode is refused
 *   (ERR_SESSION_STORE naming it and saying how to fix it).
 *
 * Node has no openat(), so between that check and the use of the path there
 * is a window of a few system calls; README-filesystem.md says what that
 * means. Only the root path itself is followed if it is a link: it is the
 * operator's choice, and its target is checked like any directory.
 */
import type { Dirent } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SessionStoreError } from '../errors.ts';
import { inspectDir, makeDir, type DirState } from './fs-dirs.ts';
import { isErrno, listNames } from './fs-io.ts';
import type { Layout } from './fs-layout.ts';
import type { Quarantine } from './fs-quarantine.ts';
import { distrust, refusal, type TrustPolicy } from './fs-trust.ts';

const TWO_HEX = /^[0-9a-f]{2}$/;
/** Rounds of fixing what is found (a link removed, a stray moved, a directory made) before giving up on a path that keeps changing. */
const FIX_ATTEMPTS = 4;

export class StoreTree {
  readonly layout: Layout;
  readonly policy: TrustPolicy;
  readonly #fsync: boolean;
  readonly #quarantine: Quarantine;
  readonly #report: (error: Error) => void;

  constructor(options: { layout: Layout; policy: TrustPolicy; fsync: boolean; quarantine: Quarantine; report: (error: Error) => void }) {
    this.layout = options.layout;
    this.policy = options.policy;
    this.#fsync = options.fsync;
    this.#quarantine = options.quarantine;
    this.#report = options.report;
  }

  /** At open(): makes what is missing, refuses what must not be trusted. */
  async prepare(): Promise<void> {
    await this.#prepareRoot();
    await this.#prepareBase();
    await this.#fixedDir(this.layout.usersDir, 'users directory');
    await this.#fixedDir(this.layout.quarantineDir, 'quarantine directory');
    // One level down (at most 256 + 256 lstat calls): a loose mode there is a store set up wrongly, best said at start.
    for (const [parent, label] of [[this.layout.base, 'shard directory'], [this.layout.usersDir, 'user index directory']] as const) {
      for (const name of await listNames(parent)) {
        if (TWO_HEX.test(name)) await this.#component(join(parent, name), false, label);
      }
    }
  }

  /** Before cleanup: `v1` and its fixed directories are still what open() accepted. */
  async recheck(): Promise<void> {
    await this.#prepareBase();
    await this.#fixedDir(this.layout.usersDir, 'users directory');
    await this.#fixedDir(this.layout.quarantineDir, 'quarantine directory');
  }

  /** The shard directory of `key`, checked; null when it does not exist and `create` is false. */
  shardDir(key: string, create: boolean): Promise<string | null> {
    return this.#twoLevels(this.layout.shardDir(key), create, 'shard directory');
  }

  /** The by-user index directory of `userTag`, checked; null when it does not exist and `create` is false. */
  userDir(userTag: string, create: boolean): Promise<string | null> {
    return this.#twoLevels(this.layout.userDir(userTag), create, 'user index directory');
  }

  /**
   * For cleanup's walk: whether to descend into `path`, listed as `dirent`.
   * A link is removed, a stray moved aside, a distrusted directory reported
   * and skipped (cleanup goes on with the others).
   */
  async admit(path: string, dirent: Dirent): Promise<boolean> {
    if (dirent.isSymbolicLink()) {
      await this.#quarantine.removeLink(path, 'a shard directory');
      return false;
    }
    if (!dirent.isDirectory()) {
      await this.#quarantine.setAside(dirname(path), basename(path), 'not a directory');
      return false;
    }
    try {
      return await this.#component(path, false, 'shard directory');
    } catch (error) {
      if (!(error instanceof SessionStoreError)) throw error;
      // Reported, not thrown: one bad directory must not stop cleanup of the others.
      this.#report(error);
      return false;
    }
  }

  /** `leaf` and its parent, the two directories between a fixed directory of the layout and a file. */
  async #twoLevels(leaf: string, create: boolean, label: string): Promise<string | null> {
    const top = dirname(leaf);
    // The common case in one round of two parallel lstat calls.
    const [topState, leafState] = await Promise.all([inspectDir(top, this.policy), inspectDir(leaf, this.policy)]);
    if (topState.kind === 'directory' && leafState.kind === 'directory') return leaf;
    if (!(await this.#component(top, create, label, topState))) return null;
    if (!(await this.#component(leaf, create, label, topState.kind === 'directory' ? leafState : undefined))) return null;
    return leaf;
  }

  /**
   * Makes `path` a trusted directory or says it is absent: removes a link,
   * moves a stray aside, creates it when `create`. Throws for a directory
   * that must not be trusted. `known` is a fresh inspection to start from.
   */
  async #component(path: string, create: boolean, label: string, known?: DirState): Promise<boolean> {
    let state = known ?? (await inspectDir(path, this.policy));
    for (let attempt = 0; attempt < FIX_ATTEMPTS; attempt++) {
      switch (state.kind) {
        case 'directory':
          return true;
        case 'distrusted':
          throw refusal(`its ${label}`, path, state.info, state.reason);
        case 'symlink':
          await this.#quarantine.removeLink(path, `its ${label}`);
          break;
        case 'other':
          await this.#quarantine.setAside(dirname(path), basename(path), `not a directory (where its ${label} should be)`);
          break;
        case 'missing':
          if (!create) return false;
          if (await makeDir(path, this.policy, this.#fsync)) return true; // ours, with the policy's mode
          break;
      }
      state = await inspectDir(path, this.policy);
    }
    throw new SessionStoreError(`filesystem store: ${JSON.stringify(path)} kept changing while being checked (${FIX_ATTEMPTS} attempts)`);
  }

  /** The root may be a symlink (the operator's choice); what it resolves to must be a trusted directory. */
  async #prepareRoot(): Promise<void> {
    const root = this.layout.root;
    let info;
    try {
      info = await stat(root);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await makeDir(root, this.policy, this.#fsync);
      info = await stat(root);
    }
    if (!info.isDirectory()) throw new SessionStoreError(`filesystem store: its root ${JSON.stringify(root)} is not a directory`);
    const reason = distrust(root, info, this.policy);
    if (reason) throw refusal('its root', root, info, reason);
  }

  /** `v1` must be a real directory: a link here would move the whole store, so it is refused rather than removed. */
  async #prepareBase(): Promise<void> {
    const base = this.layout.base;
    for (let attempt = 0; attempt < FIX_ATTEMPTS; attempt++) {
      const state = await inspectDir(base, this.policy);
      if (state.kind === 'directory') return;
      if (state.kind === 'distrusted') throw refusal('its layout directory', base, state.info, state.reason);
      if (state.kind === 'symlink') {
        throw new SessionStoreError(
          `filesystem store refuses ${JSON.stringify(base)}: it is a symbolic link, and the store follows no link inside its root. ` +
            'To keep the store elsewhere, set filesystemPath to the directory that holds the real v1',
        );
      }
      if (state.kind === 'other') throw new SessionStoreError(`filesystem store refuses ${JSON.stringify(base)}: it is not a directory; move it away`);
      await makeDir(base, this.policy, this.#fsync);
    }
    throw new SessionStoreError(`filesystem store: ${JSON.stringify(base)} kept changing while being checked`);
  }

  /** `users` and `quarantine`: made when missing; a link there is removed and a real directory made. */
  async #fixedDir(path: string, label: string): Promise<void> {
    const state = await inspectDir(path, this.policy);
    if (state.kind === 'other') throw new SessionStoreError(`filesystem store refuses ${JSON.stringify(path)}: it is not a directory; move it away`);
    await this.#component(path, true, label, state);
  }
}
