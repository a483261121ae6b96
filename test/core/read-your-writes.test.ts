/** Read-your-writes across two managers over one shared store (the in-memory stand-in; the real stores run the same suite). */
import { testKey } from '../helpers/manager.ts';
import { readYourWritesSuite } from '../helpers/read-your-writes.ts';
import { nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

readYourWritesSuite('shared in-memory store', async (clock) => {
  const store = new SharedMemoryStore();
  const encryptionKey = testKey();
  const a = nodeOver(store, { encryptionKey, now: clock.read });
  const b = nodeOver(store, { encryptionKey, now: clock.read });
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
});
