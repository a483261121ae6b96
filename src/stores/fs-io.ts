/** Small filesystem primitives the filesystem store is built from. Each keeps errno errors intact for the caller to wrap. */
import { constants, type Dirent, type Stats } from 'node:fs';
import { lstat, open, readdir, unlink, type FileHandle } from 'node:fs/promises';

/**
 * Record files are opened without following symlinks (a planted link reads as a foreign file, not as
 * its target) and without blocking (a FIFO planted under a record name must not hang a thread).
 */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The code of the error thrown when a name the store reads is not a regular file (a directory, FIFO, device). */
const NOT_REGULAR = 'ERR_NOT_REGULAR_FILE';

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

/** Directory entries with their types (lstat's view: a symlink is a symlink), or [] when the directory does not exist. */
export async function listEntries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
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
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `bytes` to a new file at `path` (which must not exist) with `mode`,
 * fsyncing it when `durable`. `chmod` sets the mode again after creation, for
 * modes the umask may narrow. On any failure the partial file is removed, so
 * a full disk leaves nothing behind. The parent directory must exist.
 */
export async function writeNewFile(path: string, bytes: Uint8Array, durable: boolean, mode: number, chmod: boolean): Promise<void> {
  const handle = await open(path, CREATE_EXCLUSIVE, mode);
  try {
    if (chmod) await handle.chmod(mode);
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

/** Creates an empty file if absent (never through a symlink). True when this call created it. */
export async function createEmptyFile(path: string, mode: number): Promise<boolean> {
  try {
    const handle = await open(path, CREATE_EXCLUSIVE, mode);
    await handle.close();
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  }
}

/** lstat, or null when nothing is there. */
export async function lstatIfPresent(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return null;
    throw error;
  }
}

/** Opens a file the store reads, with its size: never a symlink, never anything but a regular file (NOT_REGULAR otherwise). */
async function openRegular(path: string): Promise<{ handle: FileHandle; size: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error(`not a regular file: ${path}`), { code: NOT_REGULAR });
    return { handle, size: info.size };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

async function readAt(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let offset = 0;
  while (offset < length) {
    const { bytesRead } = await handle.read(buffer, offset, length - offset, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  return buffer.subarray(0, offset);
}

/** A whole record file (no symlinks followed, regular files only), or null when it is gone. Record files never change once written. */
export async function readWhole(path: string): Promise<Buffer | null> {
  const opened = await openRegular(path);
  if (!opened) return null;
  try {
    return await readAt(opened.handle, opened.size);
  } finally {
    await opened.handle.close();
  }
}

/** The first `length` bytes of a file (no symlinks followed, regular files only), or null when it is gone. */
export async function readPrefix(path: string, length: number): Promise<Buffer | null> {
  const opened = await openRegular(path);
  if (!opened) return null;
  try {
    return await readAt(opened.handle, length);
  } finally {
    await opened.handle.close();
  }
}

/** True when `error` says a name the store reads is not a file it can read as a record (link, directory, FIFO, …). */
export function isNotRecordFile(error: unknown): boolean {
  return isErrno(error, 'ELOOP', 'EISDIR', 'EINVAL', 'ENXIO', NOT_REGULAR);
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
