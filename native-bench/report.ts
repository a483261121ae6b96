/** Turns native-bench results into markdown tables, prints them, and writes the native-bench section of BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Conditions } from './conditions.ts';

export const START_MARKER = '<!-- native-bench:start -->';
export const END_MARKER = '<!-- native-bench:end -->';

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[], align?: readonly ('l' | 'r')[]): string {
  const cells = rows.map((r) => r.map(String));
  const rule = headers.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : ':---'));
  return [headers, rule, ...cells].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function ns(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} ms`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e5 ? 0 : 2)} µs`;
  return `${value.toFixed(0)} ns`;
}

export function rate(opsPerSec: number): string {
  return opsPerSec >= 1e6 ? `${(opsPerSec / 1e6).toFixed(2)} M/s` : `${(opsPerSec / 1e3).toFixed(0)} k/s`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function conditionsLine(c: Conditions, clock: string): string {
  return (
    `Node ${c.node} · ${c.cpu} · ${c.cores} cores · ${c.memoryGiB} GiB · commit ${c.commit} · ${c.date} · load average at start ${c.loadAtStart.toFixed(2)}` +
    `${c.quick ? ' · **--quick run (short samples; noisier)**' : ''} · main-thread time: ${clock}`
  );
}

/** Replaces the text between the markers, creating the file (title + markers) if needed. Leaves the rest of the file alone. */
export function writeSection(path: string, body: string): void {
  const fresh = `# Benchmarks\n\n${START_MARKER}\n${END_MARKER}\n`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : fresh;
  const withMarkers = current.includes(START_MARKER) && current.includes(END_MARKER) ? current : `${current.trimEnd()}\n\n${START_MARKER}\n${END_MARKER}\n`;
  const start = withMarkers.indexOf(START_MARKER) + START_MARKER.length;
  const end = withMarkers.indexOf(END_MARKER);
  writeFileSync(path, `${withMarkers.slice(0, start)}\n${body.trim()}\n${withMarkers.slice(end)}`);
}
