/** The `filesystem` option (the filesystem store's settings), validated once at createSessionManager. */
import { assertKnownKeys, booleanOption, nonNegativeInteger, optionalObject } from '../validate.ts';

export interface FilesystemOptions {
  /** fsync each record file and its directory before a write is acknowledged. Default true. */
  fsync?: boolean;
  /**
   * Let the processes of several users share the store through a group.
   * Default false: open() then refuses any directory of the store that is
   * not owned by this process's user or that its group or others may write.
   *
   * With true, a directory is also accepted when it is group-writable, or
   * owned by another user, provided its group is one this process is in;
   * a directory writable by every user is still refused. The store then
   * creates directories `2770` (setgid, so everything below keeps the
   * root's group) and files `0640` (the other users of the group must read
   * them), whatever the umask. Every member of that group can read, replace
   * and delete every session record: give the group to the app's users only.
   */
  allowGroupWrite?: boolean;
  /**
   * Most files kept in `v1/quarantine/` (corrupt or foreign files moved
   * aside for inspection). Cleanup deletes the oldest beyond it. Default 1000.
   */
  quarantineMaxFiles?: number;
  /** Age in ms after which cleanup deletes a quarantined file. Default 7 days. */
  quarantineMaxAgeMs?: number;
}

export const FILESYSTEM_DEFAULTS = Object.freeze({
  fsync: true,
  allowGroupWrite: false,
  quarantineMaxFiles: 1000,
  quarantineMaxAgeMs: 7 * 24 * 3600_000,
});

const KNOWN = Object.keys(FILESYSTEM_DEFAULTS);

export function validateFilesystemOptions(value: unknown): Readonly<Required<FilesystemOptions>> {
  const options = optionalObject('filesystem', value);
  assertKnownKeys('filesystem', options, KNOWN);
  return Object.freeze({
    fsync: booleanOption('filesystem.fsync', options.fsync, FILESYSTEM_DEFAULTS.fsync),
    allowGroupWrite: booleanOption('filesystem.allowGroupWrite', options.allowGroupWrite, FILESYSTEM_DEFAULTS.allowGroupWrite),
    quarantineMaxFiles: nonNegativeInteger('filesystem.quarantineMaxFiles', options.quarantineMaxFiles, FILESYSTEM_DEFAULTS.quarantineMaxFiles),
    quarantineMaxAgeMs: nonNegativeInteger('filesystem.quarantineMaxAgeMs', options.quarantineMaxAgeMs, FILESYSTEM_DEFAULTS.quarantineMaxAgeMs),
  });
}
