/**
 * The `filesystem` backend: one file per record under a sharded, versioned
 * root, safe to share between processes on one host. The format and the
 * guarantees are in README-filesystem.md; the reasoning, briefly:
 *
 * - A record file is written whole to a temp file, fsynced (if configured),
 *   and only then linked into place, so a reader or a crash sees a whole old
 *   file or a whole new one.
 * - A key's current record is its file with the highest (version, touch).
 * - To replace it, a writer first *takes* the current file: rename() to a
 *   name of its own. Rename of one existing name succeeds for one process
 *   only, so exactly one writer replaces each file (the compare-and-swap).
 *   It then link()s the new file (EEXIST refuses a second publisher of a
 *   name) and removes the taken one. Readers read a taken file as current
 *   until the new one appears; a file taken by a process that died is taken
 *   over by the next writer.
 * - Delete renames the current file to `<key>.dead`. A writer checks for the
 *   tombstone after publishing and withdraws, so no late writer revives a
 *   deleted record.
 */
import { link, rename, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { SessionClosedError, SessionError, SessionStoreError } from '../errors.ts';
import {
  decodeHeader,
  decodeRecordFile,
  encodeRecordFile,
  HEADER_BYTES,
  isTag,
  toStoredRecord,
  type DecodedRecord,
} from './fs-format.ts';
import {
  ensureDir,
  errnoOf,
  fsyncDir,
  isErrno,
  listNames,
  processAlive,
  readPrefix,
  readWhole,
  touchFile,
  unlinkIfPresent,
  writeNewFile,
} from './fs-io.ts';
import {
  filesOfKey,
  Layout,
  TEMP_PREFIX,
  takenName,
  tempName,
  tombstoneName,
  versionName,
  type KeyFiles,
  type VersionName,
} from './fs-layout.ts';
import { forEachShard } from './fs-walk.ts';
import { isStoreKey, type KeyedRecord, type RecordWrite, type SessionStore, type StoreKey, type StoredRecord } from './store.ts';

export interface FilesystemStoreOptions {
  /** Root directory; records live under <path>/v1. */
  readonly path: string;
  /** fsync each record file and its directory before a write resolves. */
  readonly fsync: boolean;
  /** Receives reports of quarantined files. Default: process warning. */
  readonly onError?: (error: Error) => void;
  /** Wall clock for file ages (temp files, tombstones); file times are wall-clock times. Default Date.now. */
  readonly wallClock?: () => number;
  /** Age after which a temp file of a live process counts as orphaned. Default 10 min. */
  readonly tempGraceMs?: number;
  /** How long a tombstone outlives its record, blocking writers still in flight. Default 1 h. */
  readonly tombstoneGraceMs?: number;
  /** A file taken by a live process longer than this may be taken over (a stalled writer). Default 30 s. */
  readonly staleTakeMs?: number;
  /** Shard directories cleanup works on at once. Default 16. */
  readonly cleanupConcurrency?: number;
}

/** Reads retried when the current file is replaced between listing and opening it. */
const READ_ATTEMPTS = 64;
/** Rounds a writer waits for another writer's take to finish before giving up. */
const TAKE_ATTEMPTS = 200;
const MAX_VERSION = 0xffffffff;

type Outcome = 'won' | 'lost' | 'dead';

interface Current {
  readonly file: VersionName;
  readonly decoded: DecodedRecord;
}

interface Target {
  readonly version: number;
  readonly touchSeq: number;
}

function describeFailure(operation: string, error: unknown): string {
  const code = errnoOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'EMFILE' || code === 'ENFILE') {
    return `filesystem store ${operation} failed: too many open files (${code}); raise the file descriptor limit (ulimit -n) or lower concurrency: ${detail}`;
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') return `filesystem store ${operation} failed: no space left on the device (${code}); nothing was written: ${detail}`;
  return `filesystem store ${operation} failed: ${detail}`;
}

function defaultOnError(error: Error): void {
  process.emitWarning(error, { code: 'ROCKSTAR_SESSION_STORE' } as never);
}

function publishedName(file: VersionName): string {
  return versionName(file.name.slice(0, 64), file.version, file.touchSeq);
}

/** Keeps a stray name printable and short when it becomes part of a quarantine file name. */
function safeName(name: string): string {
  return name.replace(/[^0-9A-Za-z._~-]/g, '_').slice(0, 120);
}

export class FilesystemStore implements SessionStore {
  readonly name = 'filesystem';
  readonly layout: Layout;
  readonly #fsync: boolean;
  readonly #onError: (error: Error) => void;
  readonly #wallClock: () => number;
  readonly #tempGraceMs: number;
  readonly #tombstoneGraceMs: number;
  readonly #staleTakeMs: number;
  readonly #cleanupConcurrency: number;
  #closed = false;

  constructor(options: FilesystemStoreOptions) {
    this.layout = new Layout(options.path);
    this.#fsync = options.fsync;
    this.#onError = options.onError ?? defaultOnError;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#tempGraceMs = options.tempGraceMs ?? 10 * 60_000;
    this.#tombstoneGraceMs = options.tombstoneGraceMs ?? 60 * 60_000;
    this.#staleTakeMs = options.staleTakeMs ?? 30_000;
    this.#cleanupConcurrency = options.cleanupConcurrency ?? 16;
  }

  // ---------------------------------------------------------------- contract

  async open(): Promise<void> {
    this.#assertOpen();
    try {
      await ensureDir(this.layout.base, this.#fsync);
      await ensureDir(this.layout.usersDir, this.#fsync);
      await ensureDir(this.layout.quarantineDir, this.#fsync);
      // Prove we can create, sync and remove a file where records will go. Empty, so that a full
      // disk does not stop a process from starting and reading what is there (writes then fail one by one).
      const probe = join(this.layout.base, `.probe.${process.pid}.${Math.random().toString(36).slice(2)}`);
      await writeNewFile(probe, new Uint8Array(0), this.#fsync);
      await unlinkIfPresent(probe);
    } catch (error) {
      throw new SessionStoreError(`${describeFailure('open', error)} (root ${JSON.stringify(this.layout.root)})`, { cause: error });
    }
  }

  find(key: StoreKey): Promise<StoredRecord | null> {
    return this.#run('find', key, async () => {
      const current = await this.#current(key);
      return current ? toStoredRecord(current.decoded) : null;
    });
  }

  insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    return this.#run('insert', key, async () => {
      this.#assertWrite(write);
      const dir = this.layout.shardDir(key);
      const before = filesOfKey(await listNames(dir), key);
      if (before.dead || before.versions.length > 0) return false;
      await this.#addMarker(write.userTag, key);
      const temp = await this.#writeTemp(dir, key, encodeRecordFile(key, 1, 0, write));
      try {
        const outcome = await this.#publish(dir, key, temp, { version: 1, touchSeq: 0 });
        if (outcome !== 'won') return false;
      } finally {
        await unlinkIfPresent(temp);
      }
      await this.#confirmMarker(write.userTag, key);
      return true;
    });
  }

  update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    return this.#run('update', key, async () => {
      this.#assertWrite(write);
      if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1 || expectedVersion > MAX_VERSION) return false;
      if (expectedVersion === MAX_VERSION) throw new SessionStoreError('filesystem store update failed: record version is at its maximum');
      const dir = this.layout.shardDir(key);
      const files = filesOfKey(await listNames(dir), key);
      // Cheap refusal before any bytes are written; #replace checks again under the take.
      if (files.dead || files.versions[0]?.version !== expectedVersion) return false;
      await this.#addMarker(write.userTag, key);
      const target: Target = { version: expectedVersion + 1, touchSeq: 0 };
      const temp = await this.#writeTemp(dir, key, encodeRecordFile(key, target.version, 0, write));
      try {
        const outcome = await this.#replace(dir, key, temp, files, (top) => (top.version === expectedVersion ? target : null));
        if (outcome !== 'won') return false;
      } finally {
        await unlinkIfPresent(temp);
      }
      await this.#confirmMarker(write.userTag, key);
      return true;
    });
  }

  /**
   * A touch is a new file of the same version with the next touch number:
   * the same CAS as an update, so it never overwrites a concurrent update
   * (an update published first makes the touch's take fail, and the touch
   * retries on the newer file), and the version stays what it was.
   */
  touch(key: StoreKey, expiresAt: number): Promise<boolean> {
    return this.#run('touch', key, async () => {
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw new SessionStoreError('filesystem store touch: expiresAt must be a finite number');
      const dir = this.layout.shardDir(key);
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        const current = await this.#current(key);
        if (!current) return false;
        const { version, touchSeq } = current.file;
        if (touchSeq === MAX_VERSION) throw new SessionStoreError('filesystem store touch failed: touch count is at its maximum');
        const target: Target = { version, touchSeq: touchSeq + 1 };
        const bytes = encodeRecordFile(key, version, target.touchSeq, { ...current.decoded, expiresAt });
        const temp = await this.#writeTemp(dir, key, bytes);
        let outcome: Outcome;
        try {
          outcome = await this.#replace(dir, key, temp, null, (top) =>
            top.version === version && top.touchSeq === touchSeq ? target : null,
          );
        } finally {
          await unlinkIfPresent(temp);
        }
        if (outcome === 'won') return true;
        if (outcome === 'dead') return false;
        // Another writer replaced the file we copied: touch the newer one.
      }
      throw new SessionStoreError(`filesystem store touch failed: record kept changing (${READ_ATTEMPTS} attempts)`);
    });
  }

  delete(key: StoreKey): Promise<void> {
    return this.#run('delete', key, async () => {
      await this.#deleteKey(this.layout.shardDir(key), key);
    });
  }

  async deleteExpired(now: number): Promise<number> {
    this.#assertOpen();
    let removed = 0;
    try {
      await forEachShard(this.layout.base, this.#cleanupConcurrency, () => this.#closed, async (dir) => {
        const removedHere = await this.#sweepShard(dir, now);
        removed += removedHere; // not `removed += await …`: that reads `removed` before the await
      });
    } catch (error) {
      throw error instanceof SessionError ? error : new SessionStoreError(describeFailure('deleteExpired', error), { cause: error });
    }
    return removed;
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    this.#assertOpen();
    if (typeof userTag !== 'string' || !isTag(userTag)) throw new SessionStoreError('filesystem store listByUser: not a user tag (32 lowercase hex characters)');
    try {
      const result: KeyedRecord[] = [];
      const dir = this.layout.userDir(userTag);
      for (const key of await listNames(dir)) {
        if (result.length >= limit) break;
        if (!isStoreKey(key)) continue;
        const current = await this.#current(key);
        // Markers may be stale (a crash, a tag change, a delete): the record is the truth.
        if (current && current.decoded.userTag === userTag) result.push({ key, record: toStoredRecord(current.decoded) });
        else await this.#dropMarker(userTag, key);
      }
      return result;
    } catch (error) {
      throw error instanceof SessionError ? error : new SessionStoreError(describeFailure('listByUser', error), { cause: error });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // ---------------------------------------------------------------- plumbing

  #assertOpen(): void {
    if (this.#closed) throw new SessionClosedError('filesystem store is closed');
  }

  /** Validates the key before any path is built, then runs `work`, turning system errors into ERR_SESSION_STORE. */
  async #run<T>(operation: string, key: StoreKey, work: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    if (!isStoreKey(key)) {
      // Never echo the value: it may be a raw session id or an attack string.
      throw new SessionStoreError(`filesystem store ${operation}: not a store key (expected 64 lowercase hex characters; received ${typeof key === 'string' ? `a string of ${(key as string).length}` : typeof key})`);
    }
    try {
      return await work();
    } catch (error) {
      throw error instanceof SessionError ? error : new SessionStoreError(describeFailure(operation, error), { cause: error });
    }
  }

  #assertWrite(write: RecordWrite): void {
    if (typeof write !== 'object' || write === null) throw new SessionStoreError('filesystem store: a record write must be an object');
    if (typeof write.expiresAt !== 'number' || !Number.isFinite(write.expiresAt)) throw new SessionStoreError('filesystem store: expiresAt must be a finite number');
    if (!isTag(write.userTag) || !isTag(write.tenantTag)) throw new SessionStoreError('filesystem store: userTag and tenantTag must be null or 32 lowercase hex characters');
    if (!(write.sealed instanceof Uint8Array) || write.sealed.byteLength > MAX_VERSION) throw new SessionStoreError('filesystem store: sealed must be a Uint8Array');
  }

  async #writeTemp(dir: string, key: StoreKey, bytes: Buffer): Promise<string> {
    const path = join(dir, tempName(key));
    try {
      await writeNewFile(path, bytes, this.#fsync);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await ensureDir(dir, this.#fsync);
      await writeNewFile(path, bytes, this.#fsync);
    }
    return path;
  }

  /** The current record of `key`, read whole and verified; null when there is none (or it is deleted). */
  async #current(key: StoreKey): Promise<Current | null> {
    const dir = this.layout.shardDir(key);
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const files = filesOfKey(await listNames(dir), key);
      const top = files.versions[0];
      if (files.dead || !top) return null;
      let bytes: Buffer | null;
      try {
        bytes = await readWhole(join(dir, top.name));
      } catch (error) {
        if (!isErrno(error, 'ELOOP', 'EISDIR', 'EINVAL')) throw error;
        if (!(await this.#quarantine(dir, top.name, 'not a regular file'))) return null;
        continue;
      }
      if (bytes === null) continue; // replaced between listing and opening
      const decoded = decodeRecordFile(key, bytes);
      if (decoded && decoded.version === top.version && decoded.touchSeq === top.touchSeq) return { file: top, decoded };
      if (!(await this.#quarantine(dir, top.name, 'corrupt or foreign'))) return null;
    }
    throw new SessionStoreError(`filesystem store: record kept changing while being read (${READ_ATTEMPTS} attempts)`);
  }

  /**
   * Takes the current file (if `decide` accepts it) and publishes `temp` as
   * the target `decide` names. 'lost' when the current file is not the one
   * the caller expected, 'dead' when the key was deleted.
   */
  async #replace(dir: string, key: StoreKey, temp: string, listed: KeyFiles | null, decide: (top: VersionName) => Target | null): Promise<Outcome> {
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      const files = attempt === 0 && listed ? listed : filesOfKey(await listNames(dir), key);
      if (files.dead) return 'dead';
      const top = files.versions[0];
      if (!top) return 'lost';
      const target = decide(top);
      if (!target) return 'lost';
      if (top.takenBy !== null && !(await this.#takeable(dir, top))) {
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
        outcome = await this.#publish(dir, key, temp, target);
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
  async #takeable(dir: string, file: VersionName): Promise<boolean> {
    if (file.takenBy === null || !processAlive(file.takenBy)) return true;
    try {
      const info = await stat(join(dir, file.name));
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
  async #publish(dir: string, key: StoreKey, temp: string, target: Target): Promise<Outcome> {
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

  /**
   * Deletes `key`: its current file becomes the tombstone (one rename, so
   * the record is gone and the tombstone present at the same instant; a
   * writer that had taken the file finds the tombstone when it checks after
   * publishing), then every other file of the key is removed.
   */
  async #deleteKey(dir: string, key: StoreKey): Promise<void> {
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      const files = filesOfKey(await listNames(dir), key);
      if (files.dead) {
        await this.#removeFiles(dir, files.versions);
        return;
      }
      const top = files.versions[0];
      if (!top) return;
      const tombstone = join(dir, tombstoneName(key));
      try {
        await rename(join(dir, top.name), tombstone);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue; // replaced meanwhile: delete what replaced it
        throw error;
      }
      if (this.#fsync) await fsyncDir(dir);
      const header = await readPrefix(tombstone, HEADER_BYTES).catch(() => null);
      const decoded = header && decodeHeader(key, header);
      if (decoded) await this.#dropMarker(decoded.userTag, key);
      const rest = filesOfKey(await listNames(dir), key);
      await this.#removeFiles(dir, rest.versions);
      return;
    }
    throw new SessionStoreError(`filesystem store delete failed: record kept changing (${TAKE_ATTEMPTS} attempts)`);
  }

  async #removeFiles(dir: string, files: readonly VersionName[]): Promise<void> {
    for (const file of files) await unlinkIfPresent(join(dir, file.name));
  }

  /** Moves a file that is not a record of this store aside. False if it could not be moved (then it is ignored). */
  async #quarantine(dir: string, name: string, reason: string): Promise<boolean> {
    const target = join(this.layout.quarantineDir, `${safeName(name)}.${this.#wallClock()}.${Math.random().toString(36).slice(2, 10)}`);
    try {
      await ensureDir(this.layout.quarantineDir, false);
      await rename(join(dir, name), target);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return true; // already gone (replaced or moved by another process)
      this.#onError(new SessionStoreError(`filesystem store could not quarantine ${reason} file ${safeName(name)}: ${describeFailure('quarantine', error)}`, { cause: error }));
      return false;
    }
    this.#onError(new SessionStoreError(`filesystem store moved ${reason} file ${safeName(name)} to ${this.layout.quarantineDir}; it reads as missing`));
    return true;
  }

  // ---------------------------------------------------------------- by-user index

  /**
   * Index markers are created before the record is written (so a crash
   * leaves at most a stale marker, never a missing one) and checked again
   * after it is published: a concurrent #dropMarker may have removed the
   * marker in between. #dropMarker re-reads the record after removing a
   * marker and puts it back if the record still carries the tag. Between
   * the two checks no tagged record is left unlisted.
   */
  async #addMarker(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    const dir = this.layout.userDir(userTag);
    let created: boolean;
    try {
      created = await touchFile(join(dir, key));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await ensureDir(dir, this.#fsync);
      created = await touchFile(join(dir, key));
    }
    if (created && this.#fsync) await fsyncDir(dir);
  }

  async #confirmMarker(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    try {
      await stat(join(this.layout.userDir(userTag), key));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await this.#addMarker(userTag, key);
    }
  }

  async #dropMarker(userTag: string | null, key: StoreKey): Promise<void> {
    if (userTag === null) return;
    const path = join(this.layout.userDir(userTag), key);
    if (!(await unlinkIfPresent(path))) return;
    const current = await this.#current(key);
    if (current && current.decoded.userTag === userTag) await this.#addMarker(userTag, key);
  }

  // ---------------------------------------------------------------- cleanup

  /** One shard directory: expired records, dead keys' leftovers, orphaned temps, strays. Resolves to records removed. */
  async #sweepShard(dir: string, now: number): Promise<number> {
    const byKey = new Map<StoreKey, string[]>();
    for (const name of await listNames(dir)) {
      if (name.startsWith(TEMP_PREFIX)) {
        await this.#sweepTemp(dir, name);
        continue;
      }
      const key = name.slice(0, 64);
      if (name.length > 64 && isStoreKey(key) && name[64] === '.') {
        let names = byKey.get(key);
        if (!names) byKey.set(key, (names = []));
        names.push(name);
      } else {
        await this.#quarantine(dir, name, 'stray');
      }
    }
    let removed = 0;
    for (const [key, names] of byKey) {
      const files = filesOfKey(names, key);
      const recognised = files.versions.length + (files.dead ? 1 : 0);
      if (recognised < names.length) {
        const known = new Set(files.versions.map((f) => f.name));
        for (const name of names) if (!known.has(name) && name !== tombstoneName(key)) await this.#quarantine(dir, name, 'stray');
      }
      if (files.dead) {
        await this.#sweepDead(dir, key, files);
        continue;
      }
      const [top, ...lower] = files.versions;
      if (!top) continue;
      for (const file of lower) {
        // Leftovers of crashed writers. A taken file of a live writer is its to remove; a lower
        // published file may be a late publisher's, which must still find it in place to withdraw.
        const leftover = file.takenBy === null ? await this.#olderThan(dir, file.name, this.#tempGraceMs) : await this.#takeable(dir, file);
        if (leftover) await unlinkIfPresent(join(dir, file.name));
      }
      if (top.takenBy !== null && !(await this.#takeable(dir, top))) continue; // being replaced right now
      const prefix = await readPrefix(join(dir, top.name), HEADER_BYTES).catch((error: unknown) => {
        if (isErrno(error, 'ELOOP', 'EISDIR', 'EINVAL')) return Buffer.alloc(0);
        throw error;
      });
      if (prefix === null) continue;
      const header = decodeHeader(key, prefix);
      if (!header || header.version !== top.version || header.touchSeq !== top.touchSeq) {
        await this.#quarantine(dir, top.name, 'corrupt or foreign');
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
    await this.#dropMarker(userTag, key);
    return true;
  }

  async #olderThan(dir: string, name: string, ageMs: number): Promise<boolean> {
    try {
      return this.#wallClock() - (await stat(join(dir, name))).mtimeMs > ageMs;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async #sweepTemp(dir: string, name: string): Promise<void> {
    // .tmp.<key>.<pid>.<id>: a temp of a process that is gone is orphaned at once; a live one's only after tempGraceMs.
    const pid = Number(name.slice(TEMP_PREFIX.length + 65).split('.')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) {
      await unlinkIfPresent(join(dir, name));
      return;
    }
    try {
      const info = await stat(join(dir, name));
      if (this.#wallClock() - info.mtimeMs > this.#tempGraceMs) await unlinkIfPresent(join(dir, name));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }

  async #sweepDead(dir: string, key: StoreKey, files: KeyFiles): Promise<void> {
    await this.#removeFiles(dir, files.versions);
    const tombstone = join(dir, tombstoneName(key));
    try {
      // rename() sets the tombstone's ctime: the moment of the delete.
      const info = await stat(tombstone);
      if (this.#wallClock() - info.ctimeMs > this.#tombstoneGraceMs) await unlinkIfPresent(tombstone);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
}
