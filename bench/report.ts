/**
 * Writes BENCHMARKS.md from one run's results. The native-bench section
 * (between its markers) belongs to `npm run bench:native` and is carried
 * over byte for byte.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Conditions } from './lib/conditions.ts';
import { formatValue } from './lib/format.ts';
import { formatRatio, ratioOf } from './lib/ratios.ts';
import type { FamilyResult, Measurement } from './lib/results.ts';
import { median, spreadOf } from './lib/stats.ts';
import type { GoalOutcome } from './goals.ts';
import { interpret } from './interpret.ts';

export const NATIVE_START = '<!-- native-bench:start -->';
export const NATIVE_END = '<!-- native-bench:end -->';

const TITLES: Record<string, string> = {
  codec: 'Codec: cookie tokens and records',
  stores: 'Stores: our backends against express-session stores',
  http: 'HTTP: the same login / profile / cart app on every contender',
  memory: 'Memory: bytes per cached session',
  cleanup: 'Cleanup: removing expired sessions under load',
  pool: 'Crypto pool: inline, pool and auto',
  galera: 'Galera: update throughput on a 3-node cluster',
};

/** The HTTP ceilings, in the order their shares are listed. */
const CEILINGS = ['.uws-json', '.uws-hello'];

/** The native-bench block from the current file, or a placeholder pair of markers it can fill later. */
export function nativeSection(path: string): string {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const start = text.indexOf(NATIVE_START);
  const end = text.indexOf(NATIVE_END);
  if (start !== -1 && end > start) return text.slice(start, end + NATIVE_END.length);
  return `${NATIVE_START}\n_native-bench has not written its section yet (\`npm run bench:native\`)._\n${NATIVE_END}`;
}

function spreadCell(m: Measurement): string {
  const s = spreadOf(m.values);
  return `${formatValue(s.min, m.unit)} – ${formatValue(s.max, m.unit)} (±${((s.relativeSpread / 2) * 100).toFixed(0)}%)`;
}

function latencyCell(m: Measurement): string {
  if (!m.extra?.p50 || !m.extra.p99) return '';
  return ` · latency p50 ${formatValue(median(m.extra.p50), 'ms')} ms, p99 ${formatValue(median(m.extra.p99), 'ms')} ms (medians), p99 ${formatValue(Math.max(...m.extra.p99), 'ms')} ms worst run`;
}

/** Ours ÷ each other contender: a list for a few pairs, a table (ours down, others across) for many. */
function ratioLines(ours: Measurement[], others: Measurement[]): string[] {
  const lines = ['', 'Ratios (ours ÷ other, paired run by run; above 1 means we are ahead):', ''];
  if (ours.length * others.length <= 4) {
    for (const o of ours) for (const p of others) lines.push(`- ${o.label} vs ${p.label}: **${formatRatio(ratioOf(o, p))}**`);
    return lines;
  }
  lines.push(`| ours (row) ÷ other (column) | ${others.map((p) => p.label).join(' | ')} |`, `|---|${others.map(() => '---:').join('|')}|`);
  for (const o of ours) lines.push(`| ${o.label} | ${others.map((p) => formatRatio(ratioOf(o, p))).join(' | ')} |`);
  return lines;
}

function groupTable(group: string, rows: Measurement[], notRun: FamilyResult['notRun']): string[] {
  const lines = [`#### ${group}`, '', '| contender | median | spread over runs (min – max) | runs |', '|---|---:|---|---:|'];
  for (const m of rows) {
    const s = spreadOf(m.values);
    const extra = latencyCell(m);
    const errors = m.extra ? (m.extra.non2xx ?? []).concat(m.extra.errors ?? []).reduce((a, b) => a + b, 0) : 0;
    const flag = errors > 0 ? ` · **${errors} errors/non-2xx**` : '';
    lines.push(`| ${m.ours ? '**' + m.label + '**' : m.label} | ${formatValue(s.median, m.unit)} ${m.unit} | ${spreadCell(m)}${extra}${flag} | ${s.runs} |`);
  }
  for (const n of notRun.filter((n) => n.group === group)) lines.push(`| ${n.label} | not run | ${n.reason} | 0 |`);
  const ours = rows.filter((m) => m.ours);
  // The ceilings get their own share lists below.
  const others = rows.filter((m) => !m.ours && !CEILINGS.some((suffix) => m.id.endsWith(suffix)));
  if (ours.length > 0 && others.length > 0) lines.push(...ratioLines(ours, others));
  for (const suffix of CEILINGS) {
    const ceiling = rows.find((m) => m.id.endsWith(suffix));
    if (!ceiling) continue;
    lines.push('', `Share of ${ceiling.label} (each contender ÷ it, paired run by run):`, '');
    for (const m of rows) if (m !== ceiling) lines.push(`- ${m.label}: ${formatRatio(ratioOf(m, ceiling))}`);
  }
  lines.push('');
  return lines;
}

function familySection(family: FamilyResult): string[] {
  const lines = [`## ${TITLES[family.family] ?? family.family}`, ''];
  const paragraph = interpret(family);
  if (paragraph) lines.push(paragraph, '');
  const conditions = Object.entries(family.conditions);
  if (conditions.length > 0) {
    lines.push('Conditions:', '');
    for (const [k, v] of conditions) lines.push(`- ${k}: ${v}`);
    lines.push('');
  }
  const groups = [...new Set([...family.measurements.map((m) => m.group), ...family.notRun.map((n) => n.group)])];
  for (const group of groups) lines.push(...groupTable(group, family.measurements.filter((m) => m.group === group), family.notRun));
  // The cleanup paragraph is made of its notes already; every other family lists its notes after the tables.
  if (family.family !== 'cleanup' && family.notes.length > 0) {
    // A note that is a fenced block (a script's output, verbatim) stays one; the others are a list.
    lines.push(...family.notes.map((n) => (n.startsWith('```') ? `\n${n}\n` : `- ${n}`)), '');
  }
  return lines;
}

export interface ReportInput {
  readonly conditions: Conditions;
  readonly families: readonly FamilyResult[];
  readonly failedFamilies: readonly { family: string; reason: string }[];
  readonly goals: readonly GoalOutcome[];
  readonly chartPath: string | null;
  readonly elapsedSeconds: number;
  readonly nativeBench: string;
}

export function renderReport(input: ReportInput, nativeBlock: string): string {
  const c = input.conditions;
  const lines: string[] = [
    '# Benchmarks',
    '',
    '_Written by `npm run bench` (`npm run bench -- --quick` for the short run). Do not edit by hand: the next run rewrites everything outside the native-bench markers._',
    '',
    'Every comparison below was measured side by side in one run, with the contenders interleaved run by run, on one shared 2-core machine. ' +
      'Absolute numbers on such a box move from run to run; the ratios between contenders measured together are the figures to read.',
    '',
    '## Conditions',
    '',
    `- date: ${c.date}`,
    `- commit: ${c.commit}${c.dirty ? ' (with uncommitted changes in tracked files)' : ''}`,
    `- run: ${c.quick ? '`--quick` (short runs; numbers are noisier and some cases are scaled down, as each section says)' : 'full'}, ${Math.round(input.elapsedSeconds)} s in all`,
    `- machine: ${c.machine}; CPU ${c.cpu}; ${c.cores} cores shared by servers and load generators; ${c.memory}`,
    `- load average (1 min): ${c.loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at the end (2 cores; the bench itself keeps up to about 2 busy, so well above 2 means other work shared them)`,
    `- Node ${c.node}`,
    `- native-bench: ${input.nativeBench}`,
    `- versions: ${Object.entries(c.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '## Goals from the issues',
    '',
    '| issue | goal | result | measured |',
    '|---:|---|---|---|',
    ...[...input.goals]
      .sort((a, b) => a.issue - b.issue)
      .map((g) => {
        const verdict = g.status === 'met' ? '**met**' : g.status === 'not met' ? '**not met**' : g.status === 'reported' ? 'reported' : 'not measured';
        return `| ${g.issue} | ${g.goal} | ${verdict}${g.firm === false ? ' (runs straddle the goal: not firm)' : ''} | ${g.detail} |`;
      }),
    '',
    'A verdict is taken on the median of the ratios paired run by run. "Not firm" means single runs fell on both sides of the goal, so another run may flip it. ' +
      '"Reported" rows are what an issue asks to measure without a threshold: the figure is the result.',
    '',
  ];
  if (input.chartPath) {
    lines.push('## HTTP throughput chart', '', `![HTTP req/s per contender](${input.chartPath})`, '');
  }
  for (const failed of input.failedFamilies) {
    lines.push(`## ${TITLES[failed.family] ?? failed.family}`, '', `Not run: ${failed.reason}`, '');
  }
  for (const family of input.families) lines.push(...familySection(family));
  lines.push('## Native building blocks', '', nativeBlock, '');
  return lines.join('\n');
}

export function writeReport(path: string, input: ReportInput): void {
  const native = nativeSection(path);
  writeFileSync(path, renderReport(input, native));
}
