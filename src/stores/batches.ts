/** Helpers for work that must not hold the event loop: yield between bounded batches. */
import { setImmediate as nextTurn } from 'node:timers/promises';

export const CLEANUP_BATCH = 1000;

/** Runs `work` over `items` in slices of `batchSize`, letting other callbacks run between slices. */
export async function inBatches<T>(items: readonly T[], batchSize: number, work: (slice: readonly T[]) => Promise<void> | void): Promise<void> {
  for (let start = 0; start < items.length; start += batchSize) {
    if (start > 0) await nextTurn();
    await work(items.slice(start, start + batchSize));
  }
}

export { nextTurn };
