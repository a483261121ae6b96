/** Read-your-writes across two managers over one filesystem store root. */
import { createSessionManager } from '../../src/index.ts';
import { testKey } from '../helpers/manager.ts';
import { readYourWritesSuite } from '../helpers/read-your-writes.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

readYourWritesSuite('filesystem store', async (clock) => {
  const root = await tempRoot('ryw');
  const encryptionKey = testKey();
  const node = () => createSessionManager({ storageType: 'filesystem', filesystemPath: root, filesystem: { fsync: false }, encryptionKey, now: clock.read, cleanupInterval: 0, crypto: { mode: 'inline' } });
  const [a, b] = await Promise.all([node(), node()]);
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await removeRoot(root);
    },
  };
});
