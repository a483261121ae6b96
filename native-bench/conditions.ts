/** What a native-bench run states about where it ran, and the main-thread clock it measures with. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface Conditions {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly commit: string;
  readonly date: string;
  readonly quick: boolean;
  /** 1-minute load average at the start: other work on the machine skews throughput (not CPU per op as much). */
  readonly loadAtStart: number;
}

export function conditions(quick: boolean): Conditions {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    commit,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    quick,
    loadAtStart: loadavg()[0] ?? 0,
  };
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
let schedstatWorks: boolean | undefined;

/**
 * CPU time of the main thread alone, in ns. process.cpuUsage() counts every
 * thread (workers included), so it cannot show what offloading saves; Linux
 * reports per-thread run time in /proc/<pid>/task/<tid>/schedstat (the main
 * thread's tid is the pid). Elsewhere, event-loop active time stands in.
 */
export function mainThreadCpuNs(): number {
  if (schedstatWorks !== false) {
    try {
      const ns = Number(readFileSync(SCHEDSTAT, 'latin1').split(' ')[0]);
      schedstatWorks = true;
      return ns;
    } catch {
      schedstatWorks = false;
    }
  }
  return performance.eventLoopUtilization().active * 1e6;
}

export function mainThreadClockName(): string {
  mainThreadCpuNs();
  return schedstatWorks ? 'main-thread CPU from /proc/self/task/<pid>/schedstat' : 'event-loop active time (performance.eventLoopUtilization)';
}
