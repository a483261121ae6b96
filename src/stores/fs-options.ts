/** The `filesystem` option (the filesystem store's settings), validated once at createSessionManager. */
import { booleanOption, optionalObject } from '../validate.ts';

export interface FilesystemOptions {
  /** fsync each record file and its directory before a write is acknowledged. Default true. */
  fsync?: boolean;
}

export function validateFilesystemOptions(value: unknown): Readonly<Required<FilesystemOptions>> {
  const options = optionalObject('filesystem', value);
  return Object.freeze({ fsync: booleanOption('filesystem.fsync', options.fsync, true) });
}
