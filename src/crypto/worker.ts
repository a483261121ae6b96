/**
 * The Piscina worker entry: seals and opens one batch per task.
 *
 * It knows nothing of scheduling or sessions. Keys arrive once, as
 * workerData, and are expanded into a KeyRing held in sodium secure memory;
 * the structured-clone copies of the raw keys are zeroed right after.
 * Replies are tagged values (see runBatch); nothing is thrown across threads.
 */
import { workerData } from 'node:worker_threads';
import { KeyRing } from './aead.ts';
import { runBatch, type BatchReply, type BatchTask } from './batch-layout.ts';

export interface CryptoWorkerData {
  readonly encryptionKey: Uint8Array;
  readonly previousKeys: readonly Uint8Array[];
}

const keys = workerData as CryptoWorkerData;
const ring = new KeyRing(keys.encryptionKey, keys.previousKeys);
keys.encryptionKey.fill(0);
for (const key of keys.previousKeys) key.fill(0);

/** Results are written into the task's shared buffer; the reply only says whether the batch ran. */
export default function sealOrOpenBatch(task: BatchTask): BatchReply {
  return runBatch(ring, task);
}
