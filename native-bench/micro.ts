/**
 * tinybench wrapper for sub-microsecond work: each task call runs `inner`
 * operations, so the timer's own cost (~50 ns per sample) is spread thin,
 * and results come back per operation (median of the samples).
 */
import { Bench } from 'tinybench';

export interface MicroResult {
  readonly group: string;
  readonly name: string;
  /** Median ns per operation. */
  readonly nsPerOp: number;
  /** Relative margin of error of the mean, in percent. */
  readonly rme: number;
  readonly note?: string;
}

export interface MicroCase {
  readonly name: string;
  readonly inner: number;
  readonly fn: () => void;
  readonly note?: string;
}

export async function runMicro(group: string, cases: readonly MicroCase[], quick: boolean): Promise<MicroResult[]> {
  const bench = new Bench({ time: quick ? 60 : 500, warmupTime: quick ? 20 : 100, iterations: quick ? 16 : 64 });
  for (const c of cases) bench.add(c.name, c.fn);
  await bench.run();
  return bench.tasks.map((task, i) => {
    const c = cases[i]!;
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${group} / ${c.name}: ${result.state === 'errored' ? result.error.message : result.state}`);
    return { group, name: c.name, nsPerOp: (result.latency.p50 * 1e6) / c.inner, rme: result.latency.rme, ...(c.note ? { note: c.note } : {}) };
  });
}

/** Fails the run before any timing when a case computes the wrong answer. */
export function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`correctness check failed before timing: ${what}`);
}
