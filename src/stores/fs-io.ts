/** Small filesystem primitives the filesystem store is built from. Each keeps errno errors intact for the caller to wrap. */
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Record files are read without following symlinks: a planted link reads as a foreign file, not as its target. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Session files hold only sealed bytes, but nobody else needs to read them. */
const FILE_MODE = 0o600;

export function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = errnoOf(error);
  return code !== undefined && codes.includes(code);
}

/** Directory entries, or [] when the directory does not exist (yet). */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  }
}

export async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

/** Makes a directory durable after entries were added or renamed in it. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `dir` and its missing parents. With `durable`, the parent of every
 * directory created is fsynced, so a record fsynced into a new shard does not
 * vanish with its directory entry after a power cut.
 *
 * Not mkdir({ recursive: true }): on Node 20 that spins forever where mkdir
 * keeps answering ENOENT (e.g. under /proc), and a store must fail, not hang.
 */
export async function ensureDir(dir: string, durable: boolean): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (isErrno(error, 'EEXIST')) {
      if (!(await stat(dir)).isDirectory()) throw error;
      return;
    }
    const parent = dirname(dir);
    if (!isErrno(error, 'ENOENT') || parent === dir) throw error;
    await ensureDir(parent, durable);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (again) {
      if (!isErrno(again, 'EEXIST')) throw again; // still ENOENT: this parent cannot hold directories
    }
  }
  if (durable) await fsyncDir(dirname(dir));
}

/**
 * Writes `bytes` to a new file at `path` (which must not exist), fsyncing it
 * when `durable`. On any failure the partial file is removed, so a full disk
 * leaves nothing behind. The parent directory must exist.
 */
export async function writeNewFile(path: string, bytes: Uint8Array, durable: boolean): Promise<void> {
  const handle = await open(path, CREATE_EXCLUSIVE, FILE_MODE);
  try {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
    if (durable) await handle.datasync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlinkIfPresent(path).catch(() => {});
    throw error;
  }
  await handle.close();
}

/** Creates an empty file if absent. True when this call created it. */
export async function touchFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, CREATE_EXCLUSIVE, FILE_MODE);
    await handle.close();
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  }
}

/** A whole record file (no symlinks followed), or null when it is gone. */
export async function readWhole(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path, { flag: READ_FLAGS });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** The first `length` bytes of a file (no symlinks followed), or null when it is gone. */
export async function readPrefix(path: string, length: number): Promise<Buffer | null> {
  let handle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** True unless `pid` certainly names no running process on this host. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}
