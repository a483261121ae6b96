/**
 * What the filesystem store finds in its tree that is not its own: a file
 * that is not a record (corrupt, foreign, a directory or FIFO under a record
 * name, a stray name) is moved to `v1/quarantine/` for inspection and
 * reported; a symlink is removed and reported, never followed and never
 * moved (its target is not the store's to touch). The quarantine is bounded
 * by age and by count: cleanup deletes the oldest first.
 */
import type { Dirent } from 'node:fs';
import { opendir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionStoreError } from '../errors.ts';
import { inspectDir, linkTarget, makeDir, removeSymlink } from './fs-dirs.ts';
import { describeFailure } from './fs-errors.ts';
import { isErrno, lstatIfPresent } from './fs-io.ts';
import type { Layout } from './fs-layout.ts';
import { refusal, type TrustPolicy } from './fs-trust.ts';

export interface QuarantineOptions {
  readonly layout: Layout;
  readonly policy: TrustPolicy;
  readonly wallClock: () => number;
  readonly report: (error: Error) => void;
  /** Most files kept; cleanup deletes the oldest beyond it. */
  readonly maxFiles: number;
  /** Age (ms since quarantined) after which cleanup deletes a file. */
  readonly maxAgeMs: number;
}

/** `<name>.<ms>.<id>`: the moment a file was quarantined is in its name (by the store's clock). */
const QUARANTINED_AT = /\.(0|[1-9][0-9]{0,15})\.[0-9a-z]{1,16}$/;

/** Keeps a stray name printable and short when it becomes part of a quarantine file name or a report. */
function safeName(name: string): string {
  return name.replace(/[^0-9A-Za-z._~-]/g, '_').slice(0, 120);
}

interface Entry {
  readonly name: string;
  readonly at: number;
  readonly isDirectory: boolean;
}

export class Quarantine {
  readonly #layout: Layout;
  readonly #policy: TrustPolicy;
  readonly #wallClock: () => number;
  readonly #report: (error: Error) => void;
  readonly #maxFiles: number;
  readonly #maxAgeMs: number;

  constructor(options: QuarantineOptions) {
    this.#layout = options.layout;
    this.#policy = options.policy;
    this.#wallClock = options.wallClock;
    this.#report = options.report;
    this.#maxFiles = options.maxFiles;
    this.#maxAgeMs = options.maxAgeMs;
  }

  get dir(): string {
    return this.#layout.quarantineDir;
  }

  /**
   * Puts `dir/name` out of the store's way: a symlink is removed, anything
   * else moved to the quarantine. True when it is gone from `dir` (or was
   * already); false when it could not be moved (it is then ignored).
   */
  async setAside(dir: string, name: string, reason: string): Promise<boolean> {
    const path = join(dir, name);
    const info = await lstatIfPresent(path).catch(() => null);
    if (info?.isSymbolicLink()) return this.removeLink(path, reason);
    const target = join(this.dir, `${safeName(name)}.${Math.floor(this.#wallClock())}.${Math.random().toString(36).slice(2, 10)}`);
    try {
      await this.#prepare();
      await rename(path, target);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return true; // already gone (replaced or moved by another process)
      this.#report(new SessionStoreError(`filesystem store could not quarantine ${reason} file ${safeName(name)}: ${describeFailure('quarantine', error)}`, { cause: error }));
      return false;
    }
    this.#report(new SessionStoreError(`filesystem store moved ${reason} file ${safeName(name)} to ${this.dir}; it reads as missing`));
    return true;
  }

  /** Removes the symlink at `path` and says so; its target is never touched. True when it is gone. */
  async removeLink(path: string, reason: string): Promise<boolean> {
    const target = await linkTarget(path);
    if (!(await removeSymlink(path))) return false;
    this.#report(
      new SessionStoreError(
        `filesystem store removed a symbolic link at ${JSON.stringify(path)} (to ${target}) where it found ${reason}: ` +
          'it follows no link inside its root. The target was not touched; anything written through the link is no longer read',
      ),
    );
    return true;
  }

  /**
   * Deletes quarantined files older than maxAgeMs, then the oldest beyond
   * maxFiles. Streams the directory and holds at most about 2 × maxFiles
   * entries, so a quarantine that grew huge under an older version is
   * bounded too. Resolves to the number deleted.
   */
  async bound(): Promise<number> {
    await this.#prepare();
    const now = this.#wallClock();
    let kept: Entry[] = [];
    let removed = 0;
    const trim = async (limit: number): Promise<void> => {
      if (kept.length <= limit) return;
      kept.sort((a, b) => b.at - a.at); // newest first
      for (const entry of kept.slice(limit)) if (await this.#remove(entry)) removed++;
      kept = kept.slice(0, limit);
    };
    const dir = await opendir(this.dir, { bufferSize: 256 });
    for await (const dirent of dir) {
      const entry = await this.#entry(dirent);
      if (!entry) continue;
      if (now - entry.at > this.#maxAgeMs) {
        if (await this.#remove(entry)) removed++;
        continue;
      }
      kept.push(entry);
      if (kept.length >= 2 * this.#maxFiles + 64) await trim(this.#maxFiles);
    }
    await trim(this.#maxFiles);
    return removed;
  }

  async #entry(dirent: Dirent): Promise<Entry | null> {
    const match = QUARANTINED_AT.exec(dirent.name);
    if (match) return { name: dirent.name, at: Number(match[1]), isDirectory: dirent.isDirectory() };
    // Not a name the store gave: aged by its modification time.
    const info = await lstatIfPresent(join(this.dir, dirent.name));
    return info && { name: dirent.name, at: info.mtimeMs, isDirectory: info.isDirectory() };
  }

  async #remove(entry: Entry): Promise<boolean> {
    const path = join(this.dir, entry.name);
    try {
      // rm never follows symlinks inside a directory it removes.
      if (entry.isDirectory) await rm(path, { recursive: true, force: true });
      else await unlink(path);
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /** The quarantine directory must be a real, trusted directory: a link there is removed, a missing one made. */
  async #prepare(): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const state = await inspectDir(this.dir, this.#policy);
      if (state.kind === 'directory') return;
      if (state.kind === 'distrusted') throw refusal('its quarantine directory', this.dir, state.info, state.reason);
      if (state.kind === 'other') throw new SessionStoreError(`filesystem store: ${JSON.stringify(this.dir)} is not a directory; move it away so the store can quarantine files there`);
      if (state.kind === 'symlink') await this.removeLink(this.dir, 'its quarantine directory');
      else await makeDir(this.dir, this.#policy, false);
    }
    throw new SessionStoreError(`filesystem store: ${JSON.stringify(this.dir)} kept changing while being prepared`);
  }
}
