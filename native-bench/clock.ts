/** Runs an async step repeatedly for a while and reports wall time and main-thread CPU per operation. */
import { mainThreadCpuNs } from './conditions.ts';

export interface Timed {
  readonly ops: number;
  readonly wallNsPerOp: number;
  readonly cpuNsPerOp: number;
  readonly opsPerSec: number;
}

/** `step` returns how many operations it completed. Runs a warm-up first, then `ms` of measurement. */
export async function timed(step: () => Promise<number>, ms: number, warmupMs = ms / 4): Promise<Timed> {
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await step();
  let ops = 0;
  const cpu0 = mainThreadCpuNs();
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    const done = await step();
    ops += done;
  }
  const wallNs = (performance.now() - t0) * 1e6;
  const cpuNs = mainThreadCpuNs() - cpu0;
  return { ops, wallNsPerOp: wallNs / ops, cpuNsPerOp: cpuNs / ops, opsPerSec: (ops * 1e9) / wallNs };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
