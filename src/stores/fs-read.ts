/**
 * Reading a key's current record: the highest (version, touch) file in its
 * shard directory, read whole and verified. Anything under a record name
 * that is not a record of this key is set aside (quarantined, or removed if
 * it is a link) and the next candidate read.
 */
import { join } from 'node:path';
import { SessionStoreError } from '../errors.ts';
import { decodeHeader, decodeRecordFile, HEADER_BYTES, type DecodedRecord, type RecordHeader } from './fs-format.ts';
import { isNotRecordFile, listNames, readPrefix, readWhole } from './fs-io.ts';
import { filesOfKey, type VersionName } from './fs-layout.ts';
import type { Quarantine } from './fs-quarantine.ts';
import type { StoreTree } from './fs-tree.ts';
import type { StoreKey } from './store.ts';

/** Reads retried when the current file is replaced between listing and opening it. */
export const READ_ATTEMPTS = 64;

export interface Current {
  readonly dir: string;
  readonly file: VersionName;
  readonly decoded: DecodedRecord;
}

export class RecordReader {
  readonly #tree: StoreTree;
  readonly #quarantine: Quarantine;

  constructor(tree: StoreTree, quarantine: Quarantine) {
    this.#tree = tree;
    this.#quarantine = quarantine;
  }

  /** The current record of `key`; null when there is none (or it is deleted). */
  async current(key: StoreKey): Promise<Current | null> {
    const dir = await this.#tree.shardDir(key, false);
    return dir === null ? null : this.currentIn(dir, key);
  }

  /** Likewise, in a shard directory the caller has checked. */
  async currentIn(dir: string, key: StoreKey): Promise<Current | null> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const files = filesOfKey(await listNames(dir), key);
      const top = files.versions[0];
      if (files.dead || !top) return null;
      let bytes: Buffer | null;
      try {
        bytes = await readWhole(join(dir, top.name));
      } catch (error) {
        if (!isNotRecordFile(error)) throw error;
        if (!(await this.#quarantine.setAside(dir, top.name, 'not a regular file'))) return null;
        continue;
      }
      if (bytes === null) continue; // replaced between listing and opening
      const decoded = decodeRecordFile(key, bytes);
      if (decoded && decoded.version === top.version && decoded.touchSeq === top.touchSeq) return { dir, file: top, decoded };
      if (!(await this.#quarantine.setAside(dir, top.name, 'corrupt or foreign'))) return null;
    }
    throw new SessionStoreError(`filesystem store: record kept changing while being read (${READ_ATTEMPTS} attempts)`);
  }

  /**
   * The header of `dir/name` if it is a record file of `key` named for what it holds; null when it is
   * gone; 'bad' when it is not one (cleanup sets it aside).
   */
  async header(dir: string, key: StoreKey, file: VersionName): Promise<RecordHeader | null | 'bad'> {
    let prefix: Buffer | null;
    try {
      prefix = await readPrefix(join(dir, file.name), HEADER_BYTES);
    } catch (error) {
      if (isNotRecordFile(error)) return 'bad';
      throw error;
    }
    if (prefix === null) return null;
    const header = decodeHeader(key, prefix);
    return header && header.version === file.version && header.touchSeq === file.touchSeq ? header : 'bad';
  }
}
