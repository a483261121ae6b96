import { KeyRing } from '../../src/crypto/aead.ts';
import { InlineSealer } from '../../src/crypto/sealer.ts';
import { SealedRecordStore } from '../../src/tier/sealed-store.ts';
import { testKey } from '../helpers/manager.ts';
import { FilesystemStore } from '../../src/stores/fs.ts';
import { storeContract, T0 } from './contract.ts';
import { recordStoreContract } from './record-contract.ts';
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

recordStoreContract('sealed tier over the filesystem', async () => {
  const root = await tempRoot();
  const backing = new FilesystemStore({ path: root, fsync: false, onError: () => {} });
  const store = new SealedRecordStore(backing, new InlineSealer(new KeyRing(testKey())), { maxBytes: 8 * 1024 * 1024, staleMs: 1000, now: () => T0, onError: () => {} });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await removeRoot(root); } };
});
