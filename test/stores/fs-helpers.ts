/** Shared set-up for the filesystem store tests: throwaway roots under the OS temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemStore, type FilesystemStoreOptions } from '../../src/stores/fs.ts';

export async function tempRoot(label = 'fs-store'): Promise<string> {
  return mkdtemp(join(tmpdir(), `rockstar-${label}-`));
}

export async function removeRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

/** An opened store over a fresh root, with every quarantine report collected. */
export async function openFsStore(options: Partial<FilesystemStoreOptions> = {}): Promise<{ store: FilesystemStore; root: string; reports: Error[] }> {
  const root = options.path ?? (await tempRoot());
  const reports: Error[] = [];
  const store = new FilesystemStore({ fsync: false, onError: (error) => reports.push(error), ...options, path: root });
  await store.open();
  return { store, root, reports };
}
