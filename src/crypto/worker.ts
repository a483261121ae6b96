/**
 * The Piscina worker entry: seals and opens one batch per task.
 *
 * It knows nothing of scheduling or sessions. Keys arrive once, as
 * workerData, and are expanded into a KeyRing held in sodium secure memory;
 * the structured-clone copies of the raw keys are zeroed right after.
 * Replies are tagged values (see runBatch); nothing is thrown across threads.
 */
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
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

/**
 * Results are written into the task's buffer. A shared buffer stays where it
 * is; a transferred ArrayBuffer is handed back by transfer (Piscina's move),
 * never cloned.
 */
export default function sealOrOpenBatch(task: BatchTask): BatchReply {
  const reply = runBatch(ring, task);
  if (!reply.ok || !(task.buffer instanceof ArrayBuffer)) return reply;
  const back = { ok: true, buffer: task.buffer } as const;
  return move({ [transferableSymbol]: task.buffer, [valueSymbol]: back } as never) as unknown as BatchReply;
}
