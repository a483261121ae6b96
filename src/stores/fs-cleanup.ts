/**
 * Cleanup of the filesystem store (deleteExpired): every shard directory is
 * visited (never through a link: fs-walk.ts asks fs-tree.ts about each),
 * expired records go by their 100-byte header, and with them the leftovers
 * of crashed writers, dead keys past their tombstone's grace, strays and
 * links. Then the quarantine is trimmed to its bounds.
 */
import { join } from 'node:path';
import { listEntries, lstatIfPresent, processAlive, unlinkIfPresent } from './fs-io.ts';
import { filesOfKey, TEMP_PREFIX, type VersionName } from './fs-layout.ts';
import type { RecordWriter } from './fs-cas.ts';
import type { UserIndex } from './fs-markers.ts';
import type { Quarantine } from './fs-quarantine.ts';
import type { RecordReader } from './fs-read.ts';
import type { Tombstones } from './fs-tombstones.ts';
import type { StoreTree } from './fs-tree.ts';
import { forEachShard } from './fs-walk.ts';
import { isStoreKey, type StoreKey } from './store.ts';

export interface CleanupParts {
  readonly tree: StoreTree;
  readonly reader: RecordReader;
  readonly writer: RecordWriter;
  readonly index: UserIndex;
  readonly tombstones: Tombstones;
  readonly quarantine: Quarantine;
  readonly wallClock: () => number;
  /** Age after which a temp file of a live process counts as orphaned. */
  readonly tempGraceMs: number;
  /** Shard directories worked on at once. */
  readonly concurrency: number;
}

export class Cleanup {
  readonly #parts: CleanupParts;

  constructor(parts: CleanupParts) {
    this.#parts = parts;
  }

  /** Resolves to the number of expired records removed. */
  async run(now: number, stopped: () => boolean): Promise<number> {
    const { tree, concurrency, quarantine } = this.#parts;
    await tree.recheck();
    let removed = 0;
    await forEachShard(tree.layout.base, concurrency, stopped, (path, entry) => tree.admit(path, entry), async (dir) => {
      const removedHere = await this.#sweepShard(dir, now);
      removed += removedHere; // not `removed += await …`: that reads `removed` before the await
    });
    if (!stopped()) await quarantine.bound();
    return removed;
  }

  /** One shard directory: expired records, dead keys' leftovers, orphaned temps, strays. Resolves to records removed. */
  async #sweepShard(dir: string, now: number): Promise<number> {
    const { quarantine, tombstones, writer, tempGraceMs } = this.#parts;
    const byKey = new Map<StoreKey, string[]>();
    for (const entry of await listEntries(dir)) {
      const name = entry.name;
      if (entry.isSymbolicLink()) {
        await quarantine.removeLink(join(dir, name), 'a link in a shard directory');
        continue;
      }
      if (name.startsWith(TEMP_PREFIX) && !entry.isDirectory()) {
        await this.#sweepTemp(dir, name);
        continue;
      }
      const key = name.slice(0, 64);
      if (name.length > 64 && isStoreKey(key) && name[64] === '.') {
        let names = byKey.get(key);
        if (!names) byKey.set(key, (names = []));
        names.push(name);
      } else {
        await quarantine.setAside(dir, name, 'stray');
      }
    }
    let removed = 0;
    for (const [key, names] of byKey) {
      const files = filesOfKey(names, key);
      if (files.versions.length + files.tombstones.length < names.length) {
        const known = new Set([...files.versions, ...files.tombstones].map((f) => f.name));
        for (const name of names) if (!known.has(name)) await quarantine.setAside(dir, name, 'stray');
      }
      if (files.dead) {
        await tombstones.sweepDead(dir, key, files);
        continue;
      }
      const [top, ...lower] = files.versions;
      if (!top) continue;
      for (const file of lower) {
        // Leftovers of crashed writers. A taken file of a live writer is its to remove; a lower
        // published file may be a late publisher's, which must still find it in place to withdraw.
        const leftover = file.takenBy === null ? await this.#olderThan(dir, file.name, tempGraceMs) : await writer.takeable(dir, file);
        if (leftover) await unlinkIfPresent(join(dir, file.name));
      }
      if (top.takenBy !== null && !(await writer.takeable(dir, top))) continue; // being replaced right now
      const header = await this.#parts.reader.header(dir, key, top);
      if (header === null) continue;
      if (header === 'bad') {
        await quarantine.setAside(dir, top.name, 'corrupt or foreign');
        continue;
      }
      if (header.expiresAt > now) continue;
      if (await this.#removeExpired(dir, key, top, header.userTag)) removed++;
    }
    return removed;
  }

  /**
   * Unlinks the expired file cleanup read, if it is still current. No tombstone is needed:
   * a writer publishes only after taking (renaming) the current file, so either its take
   * came first and our unlink fails (the record was touched or saved: we leave it), or
   * ours came first and its take fails. No fsync either: if a crash undoes the unlink,
   * the record is still expired and goes in the next run.
   */
  async #removeExpired(dir: string, key: StoreKey, file: VersionName, userTag: string | null): Promise<boolean> {
    if (!(await unlinkIfPresent(join(dir, file.name)))) return false;
    await this.#parts.index.drop(userTag, key);
    return true;
  }

  async #olderThan(dir: string, name: string, ageMs: number): Promise<boolean> {
    const info = await lstatIfPresent(join(dir, name));
    return info !== null && this.#parts.wallClock() - info.mtimeMs > ageMs;
  }

  async #sweepTemp(dir: string, name: string): Promise<void> {
    // .tmp.<key>.<pid>.<id>: a temp of a process that is gone is orphaned at once; a live one's only after tempGraceMs.
    const pid = Number(name.slice(TEMP_PREFIX.length + 65).split('.')[0]);
    if ((Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) || (await this.#olderThan(dir, name, this.#parts.tempGraceMs))) {
      await unlinkIfPresent(join(dir, name));
    }
  }
}
