import { CachedStore } from '../../src/stores/cached.ts';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { storeContract, T0 } from './contract.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

storeContract('filesystem (fsync on)', async () => {
  const root = await tempRoot();
  const store = new FilesystemStore({ path: root, fsync: true, onError: () => {} });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await removeRoot(root); } };
});

storeContract('filesystem (fsync off)', async () => {
  const root = await tempRoot();
  const store = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await removeRoot(root); } };
});

storeContract('cached(filesystem)', async () => {
  const root = await tempRoot();
  const backing = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  const store = new CachedStore(backing, { maxBytes: 8 * 1024 * 1024, staleMs: 1000, now: () => T0 });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await removeRoot(root); } };
});
