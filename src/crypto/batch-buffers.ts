/**
 * Reuses batch ArrayBuffers. A batch buffer goes to a worker and comes back
 * (transferred both ways), and every result is copied out of it, so it can
 * carry the next batch. Allocating a fresh, zero-filled buffer per batch
 * showed up in main-thread profiles as garbage-collector time (external
 * memory pressure); see native-bench.
 *
 * Buffers are kept by power-of-two capacity, a few per size, and never
 * above MAX_POOLED_BYTES: the free list is bounded whatever the load.
 */
const MIN_CAPACITY = 4096;
const MAX_POOLED_BYTES = 2 * 1024 * 1024;
const KEPT_PER_SIZE = 8;

function capacityFor(bytes: number): number {
  return bytes <= MIN_CAPACITY ? MIN_CAPACITY : 2 ** Math.ceil(Math.log2(bytes));
}

export class BatchBuffers {
  readonly #free = new Map<number, ArrayBuffer[]>();

  /** A buffer of at least `bytes` bytes. Its contents are whatever the last batch left there. */
  take(bytes: number): ArrayBuffer {
    const capacity = capacityFor(bytes);
    return this.#free.get(capacity)?.pop() ?? new ArrayBuffer(capacity);
  }

  /** Hands a buffer back once nothing reads it any more. */
  give(buffer: ArrayBuffer): void {
    const capacity = buffer.byteLength;
    if (capacity > MAX_POOLED_BYTES || capacity !== capacityFor(capacity)) return;
    let list = this.#free.get(capacity);
    if (!list) this.#free.set(capacity, (list = []));
    if (list.length < KEPT_PER_SIZE) list.push(buffer);
  }
}
