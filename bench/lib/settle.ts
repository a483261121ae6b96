/**
 * Waits until a process has gone quiet (for example a server still collecting
 * the garbage of the run before), so it does not steal CPU from the next
 * contender's run on a 2-core machine. Linux only; elsewhere it returns at once.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
  } catch {
    return null;
  }
}

/** Resolves once `pid` used at most one clock tick (~10 ms) of CPU in 100 ms, or after `maxMs`. Returns the ms waited. */
export async function waitUntilQuiet(pid: number, maxMs = 3000): Promise<number> {
  const start = Date.now();
  let before = cpuTicks(pid);
  if (before === null) return 0;
  while (Date.now() - start < maxMs) {
    await sleep(100);
    const after = cpuTicks(pid);
    if (after === null || after - before <= 1) break;
    before = after;
  }
  return Date.now() - start;
}
