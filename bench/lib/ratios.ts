/** Ratios between contenders measured side by side: paired run by run (run k of A against run k of B), summarised by the median. */
import type { Measurement } from './results.ts';
import { median } from './stats.ts';

export interface Ratio {
  /** How many times better `a` is than `b` (a/b for throughput, b/a for latency and bytes). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function ratioOf(a: Measurement, b: Measurement): Ratio {
  const pairs = Math.min(a.values.length, b.values.length);
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const x = a.values[i]!;
    const y = b.values[i]!;
    ratios.push(a.higherIsBetter ? x / y : y / x);
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

export function formatRatio(ratio: Ratio): string {
  const digits = ratio.median >= 10 ? 1 : 2;
  if (ratio.min === ratio.max) return `${ratio.median.toFixed(digits)}×`;
  return `${ratio.median.toFixed(digits)}× (runs ${ratio.min.toFixed(digits)}–${ratio.max.toFixed(digits)}×)`;
}
