/**
 * The `filesystem` backend: one file per record under a sharded, versioned
 * root, safe to share between processes on one host. The format and the
 * guarantees are in README-filesystem.md. This class checks what callers
 * give it and puts the parts together:
 *
 *   fs-tree.ts        which directories are used, checked (owner, mode, no links) before each use
 *   fs-read.ts        reading a key's current record
 *   fs-cas.ts         the compare-and-swap write (temp file, take, publish, check)
 *   fs-tombstones.ts  delete for good, without keeping the record's bytes
 *   fs-markers.ts     the by-user index
 *   fs-cleanup.ts     deleteExpired
 *   fs-quarantine.ts  what is not the store's: set aside, bounded
 *   fs-anchors.ts     the empty file tombstones and markers are links to
 */
import { join } from 'node:path';
import { SessionClosedError, SessionStoreError } from '../errors.ts';
import { Anchors } from './fs-anchors.ts';
import { RecordWriter, type Outcome, type Target } from './fs-cas.ts';
import { Cleanup } from './fs-cleanup.ts';
import { defaultOnError, describeFailure, storeFailure } from './fs-errors.ts';
import { encodeRecordFile, isTag, toStoredRecord } from './fs-format.ts';
import { listNames, unlinkIfPresent, writeNewFile } from './fs-io.ts';
import { filesOfKey, Layout } from './fs-layout.ts';
import { UserIndex } from './fs-markers.ts';
import { FILESYSTEM_DEFAULTS } from './fs-options.ts';
import { Quarantine } from './fs-quarantine.ts';
import { READ_ATTEMPTS, RecordReader } from './fs-read.ts';
import { Tombstones } from './fs-tombstones.ts';
import { StoreTree } from './fs-tree.ts';
import { trustPolicy } from './fs-trust.ts';
import { isStoreKey, type KeyedRecord, type RecordWrite, type SessionStore, type StoreKey, type StoredRecord } from './store.ts';

export interface FilesystemStoreOptions {
  /** Root directory; records live under <path>/v1. */
  readonly path: string;
  /** fsync each record file and its directory before a write resolves. */
  readonly fsync: boolean;
  /**
   * Accept group-writable directories of a group this process is in (never world-writable ones),
   * and create directories 2770 and files 0640. Default false: only this user may write. See fs-options.ts.
   */
  readonly allowGroupWrite?: boolean;
  /** Most files kept in the quarantine; cleanup deletes the oldest beyond it. Default 1000. */
  readonly quarantineMaxFiles?: number;
  /** Age after which cleanup deletes a quarantined file. Default 7 days. */
  readonly quarantineMaxAgeMs?: number;
  /** Receives reports of quarantined files and removed links. Default: process warning. */
  readonly onError?: (error: Error) => void;
  /** Wall clock for file ages (temp files, tombstones, quarantine); file times are wall-clock times. Default Date.now. */
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

const MAX_VERSION = 0xffffffff;

export class FilesystemStore implements SessionStore {
  readonly name = 'filesystem';
  readonly layout: Layout;
  readonly #fsync: boolean;
  readonly #tree: StoreTree;
  readonly #reader: RecordReader;
  readonly #writer: RecordWriter;
  readonly #index: UserIndex;
  readonly #tombstones: Tombstones;
  readonly #cleanup: Cleanup;
  #closed = false;

  constructor(options: FilesystemStoreOptions) {
    const layout = (this.layout = new Layout(options.path));
    const fsync = (this.#fsync = options.fsync);
    const report = options.onError ?? defaultOnError;
    const wallClock = options.wallClock ?? Date.now;
    const policy = trustPolicy(options.allowGroupWrite ?? FILESYSTEM_DEFAULTS.allowGroupWrite);
    const quarantine = new Quarantine({
      layout,
      policy,
      wallClock,
      report,
      maxFiles: options.quarantineMaxFiles ?? FILESYSTEM_DEFAULTS.quarantineMaxFiles,
      maxAgeMs: options.quarantineMaxAgeMs ?? FILESYSTEM_DEFAULTS.quarantineMaxAgeMs,
    });
    const tree = (this.#tree = new StoreTree({ layout, policy, fsync, quarantine, report }));
    const anchors = new Anchors({ layout, uid: policy.uid, fsync, report });
    const reader = (this.#reader = new RecordReader(tree, quarantine));
    const writer = (this.#writer = new RecordWriter({ tree, fsync, wallClock, staleTakeMs: options.staleTakeMs ?? 30_000 }));
    const index = (this.#index = new UserIndex({ tree, anchors, reader, fsync }));
    const tombstones = (this.#tombstones = new Tombstones({ tree, anchors, reader, index, fsync, wallClock, graceMs: options.tombstoneGraceMs ?? 60 * 60_000 }));
    this.#cleanup = new Cleanup({
      tree,
      reader,
      writer,
      index,
      tombstones,
      quarantine,
      wallClock,
      tempGraceMs: options.tempGraceMs ?? 10 * 60_000,
      concurrency: options.cleanupConcurrency ?? 16,
    });
  }

  // ---------------------------------------------------------------- contract

  async open(): Promise<void> {
    this.#assertOpen();
    try {
      await this.#tree.prepare();
      // Prove we can create, sync and remove a file where records will go. Empty, so that a full
      // disk does not stop a process from starting and reading what is there (writes then fail one by one).
      const probe = join(this.layout.base, `.probe.${process.pid}.${Math.random().toString(36).slice(2)}`);
      await writeNewFile(probe, new Uint8Array(0), this.#fsync, this.#tree.policy.fileMode, false);
      await unlinkIfPresent(probe);
    } catch (error) {
      if (error instanceof SessionStoreError) throw error; // a refusal: it names the path and the fix
      throw new SessionStoreError(`${describeFailure('open', error)} (root ${JSON.stringify(this.layout.root)})`, { cause: error });
    }
  }

  find(key: StoreKey): Promise<StoredRecord | null> {
    return this.#run('find', key, async () => {
      const current = await this.#reader.current(key);
      return current ? toStoredRecord(current.decoded) : null;
    });
  }

  insert(key: StoreKey, write: RecordWrite): Promise<boolean> {
    return this.#run('insert', key, async () => {
      this.#assertWrite(write);
      const dir = (await this.#tree.shardDir(key, true))!;
      const before = filesOfKey(await listNames(dir), key);
      if (before.dead || before.versions.length > 0) return false;
      await this.#index.add(write.userTag, key);
      const temp = await this.#writer.writeTemp(dir, key, encodeRecordFile(key, 1, 0, write));
      try {
        const outcome = await this.#writer.publish(dir, key, temp, { version: 1, touchSeq: 0 });
        if (outcome !== 'won') return false;
      } finally {
        await unlinkIfPresent(temp);
      }
      await this.#index.confirm(write.userTag, key);
      return true;
    });
  }

  update(key: StoreKey, expectedVersion: number, write: RecordWrite): Promise<boolean> {
    return this.#run('update', key, async () => {
      this.#assertWrite(write);
      if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1 || expectedVersion > MAX_VERSION) return false;
      if (expectedVersion === MAX_VERSION) throw new SessionStoreError('filesystem store update failed: record version is at its maximum');
      const dir = await this.#tree.shardDir(key, false);
      if (dir === null) return false;
      const files = filesOfKey(await listNames(dir), key);
      // Cheap refusal before any bytes are written; replace() checks again under the take.
      if (files.dead || files.versions[0]?.version !== expectedVersion) return false;
      await this.#index.add(write.userTag, key);
      const target: Target = { version: expectedVersion + 1, touchSeq: 0 };
      const temp = await this.#writer.writeTemp(dir, key, encodeRecordFile(key, target.version, 0, write));
      try {
        const outcome = await this.#writer.replace(dir, key, temp, files, (top) => (top.version === expectedVersion ? target : null));
        if (outcome !== 'won') return false;
      } finally {
        await unlinkIfPresent(temp);
      }
      await this.#index.confirm(write.userTag, key);
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
      const dir = await this.#tree.shardDir(key, false);
      if (dir === null) return false;
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        const current = await this.#reader.currentIn(dir, key);
        if (!current) return false;
        const { version, touchSeq } = current.file;
        if (touchSeq === MAX_VERSION) throw new SessionStoreError('filesystem store touch failed: touch count is at its maximum');
        const target: Target = { version, touchSeq: touchSeq + 1 };
        const bytes = encodeRecordFile(key, version, target.touchSeq, { ...current.decoded, expiresAt });
        const temp = await this.#writer.writeTemp(dir, key, bytes);
        let outcome: Outcome;
        try {
          outcome = await this.#writer.replace(dir, key, temp, null, (top) => (top.version === version && top.touchSeq === touchSeq ? target : null));
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
    return this.#run('delete', key, () => this.#tombstones.delete(key));
  }

  async deleteExpired(now: number): Promise<number> {
    this.#assertOpen();
    try {
      return await this.#cleanup.run(now, () => this.#closed);
    } catch (error) {
      throw storeFailure('deleteExpired', error);
    }
  }

  async listByUser(userTag: string, limit: number): Promise<KeyedRecord[]> {
    this.#assertOpen();
    if (typeof userTag !== 'string' || !isTag(userTag)) throw new SessionStoreError('filesystem store listByUser: not a user tag (32 lowercase hex characters)');
    try {
      return await this.#index.list(userTag, limit);
    } catch (error) {
      throw storeFailure('listByUser', error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // ---------------------------------------------------------------- checks

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
      throw storeFailure(operation, error);
    }
  }

  #assertWrite(write: RecordWrite): void {
    if (typeof write !== 'object' || write === null) throw new SessionStoreError('filesystem store: a record write must be an object');
    if (typeof write.expiresAt !== 'number' || !Number.isFinite(write.expiresAt)) throw new SessionStoreError('filesystem store: expiresAt must be a finite number');
    if (!isTag(write.userTag) || !isTag(write.tenantTag)) throw new SessionStoreError('filesystem store: userTag and tenantTag must be null or 32 lowercase hex characters');
    if (!(write.sealed instanceof Uint8Array) || write.sealed.byteLength > MAX_VERSION) throw new SessionStoreError('filesystem store: sealed must be a Uint8Array');
  }
}
