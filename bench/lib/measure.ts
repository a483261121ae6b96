/**
 * Throughput of one operation, measured in repeated short runs that are
 * interleaved across contenders (A B C, A B C, …) so drift on a shared
 * 2-core machine hits every contender alike.
 *
 * Timing is batched: the clock is read once per batch of calls, not once per
 * call, so timer overhead does not compress the ratios between
 * microsecond-scale operations (per-call timing, as tinybench does, adds a
 * fixed cost to every contender and pulls ratios towards 1).
 */
import { performance } from 'node:perf_hooks';

export interface ThroughputContender {
  readonly id: string;
  /** One operation. Return a promise only if the operation is asynchronous. */
  readonly op: () => unknown;
  /** 'sync' ops run in a tight loop; 'async' ops are awaited, `concurrency` at a time. */
  readonly kind: 'sync' | 'async';
  /** Operations in flight at once (async only). Default 1. */
  readonly concurrency?: number;
}

export interface RoundOptions {
  readonly rounds: number;
  readonly timeMs: number;
  readonly warmupMs: number;
  readonly onRun?: (id: string, round: number, opsPerSecond: number) => void;
}

const SYNC_BATCH = 64;

function runSync(op: () => unknown, timeMs: number): number {
  let ops = 0;
  const start = performance.now();
  const deadline = start + timeMs;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < SYNC_BATCH; i++) op();
    ops += SYNC_BATCH;
    now = performance.now();
  }
  return ops / ((now - start) / 1000);
}

async function runAsync(op: () => unknown, timeMs: number, concurrency: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const deadline = start + timeMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await op();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ops / ((performance.now() - start) / 1000);
}

export function runOnce(contender: ThroughputContender, timeMs: number): Promise<number> {
  return contender.kind === 'sync'
    ? Promise.resolve(runSync(contender.op, timeMs))
    : runAsync(contender.op, timeMs, contender.concurrency ?? 1);
}

/** ops/s per contender id, one value per round. */
export async function interleavedThroughput(contenders: readonly ThroughputContender[], options: RoundOptions): Promise<Map<string, number[]>> {
  const results = new Map<string, number[]>(contenders.map((c) => [c.id, []]));
  for (const contender of contenders) await runOnce(contender, options.warmupMs);
  for (let round = 1; round <= options.rounds; round++) {
    for (const contender of contenders) {
      const opsPerSecond = await runOnce(contender, options.timeMs);
      results.get(contender.id)!.push(opsPerSecond);
      options.onRun?.(contender.id, round, opsPerSecond);
    }
  }
  return results;
}
