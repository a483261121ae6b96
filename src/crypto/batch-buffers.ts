/**
 * Reuses batch buffers. Every result is copied out of a batch buffer once
 * its worker has answered, so the buffer can carry the next batch.
 *
 * Two kinds, chosen by size (measured on Node 20 worker_threads, see
 * native-bench):
 * - small batches (the common case: many cookie-sized operations) use a
 *   SharedArrayBuffer. Posting one the worker has seen before costs
 *   ~1.3 µs of CPU per message; transferring an ArrayBuffer ~7 µs; a fresh
 *   SharedArrayBuffer ~10 µs. So shared buffers are kept and reused.
 * - large batches use an ArrayBuffer transferred to the worker and back:
 *   V8 copies into shared memory with relaxed atomics, ~7× slower than
 *   memcpy (64 KiB: ~10 µs against ~1.5 µs), which outweighs the message
 *   cost once a batch carries tens of kilobytes.
 *
 * Buffers are kept by power-of-two capacity, a few per size, and never
 * above MAX_POOLED_BYTES: the free lists are bounded whatever the load.
 */
export type BatchBuffer = SharedArrayBuffer | ArrayBuffer;

const MIN_CAPACITY = 4096;
/** Batches up to this size use shared memory; larger ones a transferred ArrayBuffer. */
export const SHARED_MAX_BYTES = 32 * 1024;
const MAX_POOLED_BYTES = 2 * 1024 * 1024;
const KEPT_PER_SIZE = 8;

function capacityFor(bytes: number): number {
  return bytes <= MIN_CAPACITY ? MIN_CAPACITY : 2 ** Math.ceil(Math.log2(bytes));
}

export class BatchBuffers {
  readonly #shared = new Map<number, SharedArrayBuffer[]>();
  readonly #transferable = new Map<number, ArrayBuffer[]>();

  /** A buffer of at least `bytes` bytes. Its contents are whatever the last batch left there. */
  take(bytes: number): BatchBuffer {
    const capacity = capacityFor(bytes);
    if (capacity <= SHARED_MAX_BYTES) return this.#shared.get(capacity)?.pop() ?? new SharedArrayBuffer(capacity);
    return this.#transferable.get(capacity)?.pop() ?? new ArrayBuffer(capacity);
  }

  /** Hands a buffer back once no thread reads or writes it any more. */
  give(buffer: BatchBuffer): void {
    const capacity = buffer.byteLength;
    if (capacity > MAX_POOLED_BYTES || capacity !== capacityFor(capacity)) return;
    const lists: Map<number, BatchBuffer[]> = buffer instanceof SharedArrayBuffer ? this.#shared : this.#transferable;
    let list = lists.get(capacity);
    if (!list) lists.set(capacity, (list = []));
    if (list.length < KEPT_PER_SIZE) list.push(buffer);
  }
}
