/**
 * Galera (issue 12): update throughput on a 3-node MariaDB Galera cluster
 * with two app nodes, against a single MariaDB. The measuring is
 * scripts/measure-galera.ts's job (it starts the cluster); this case runs it
 * when it is in the tree and carries its figures into the report.
 *
 * The script's side of the contract: it may print one line
 *   BENCH_RESULT {"measurements":[{"id":"galera.update.single","label":"…","values":[ops/s per run…]},
 *                                 {"id":"galera.update.cluster","label":"…","values":[…]}],
 *                 "conditions":{"…":"…"}}
 * on stdout (runs interleaved, single and cluster alike); those become the
 * report's rows and issue 12's goal row. Without that line its output is
 * shown as it printed it, and the rows are "not measured".
 *
 * It starts three mariadbd processes, so it runs on full runs only, or on
 * a quick run when BENCH_GALERA=1.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FamilyRecorder, type FamilyOptions, type FamilyResult, type Measurement } from '../lib/results.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = 'scripts/measure-galera.ts';
const IDS = [
  ['galera.update.single', 'a single MariaDB, two app nodes'],
  ['galera.update.cluster', '3-node Galera cluster, app nodes on different database nodes'],
] as const;
const GROUP = 'update throughput (scripts/measure-galera.ts)';
const TIMEOUT_MS = 15 * 60_000;

function runScript(args: string[], progress: (line: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/${SCRIPT}`, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) progress(`galera: ${line.trim()}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface ScriptResult {
  readonly measurements: { id: string; label?: string; values: number[] }[];
  readonly conditions?: Record<string, string>;
}

export function parseBenchResult(stdout: string): ScriptResult | null {
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) return null;
  const parsed = JSON.parse(line.slice('BENCH_RESULT '.length)) as ScriptResult;
  if (!Array.isArray(parsed.measurements)) throw new Error('BENCH_RESULT has no measurements array');
  for (const m of parsed.measurements) {
    if (typeof m.id !== 'string' || !Array.isArray(m.values) || m.values.length === 0 || !m.values.every((v) => typeof v === 'number' && v > 0)) {
      throw new Error(`BENCH_RESULT measurement ${JSON.stringify(m).slice(0, 120)} needs an id and positive values`);
    }
  }
  return parsed;
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('galera');
  const notRun = (reason: string): void => {
    for (const [id, label] of IDS) if (!rec.measurements.some((m) => m.id === id)) rec.notRun.push({ id, label, group: GROUP, reason });
  };
  if (!existsSync(`${ROOT}/${SCRIPT}`)) {
    notRun(`${SCRIPT} is not in this tree yet (issue 12's Galera measurement)`);
    return rec.result();
  }
  if (options.quick && process.env.BENCH_GALERA !== '1') {
    notRun('not run on --quick (it starts a 3-node Galera cluster): a full run, or BENCH_GALERA=1, runs it');
    return rec.result();
  }
  options.progress(`galera: running ${SCRIPT}`);
  const { code, stdout, stderr } = await runScript(options.quick ? ['--quick'] : [], options.progress);
  rec.conditions['script'] = `node --import tsx ${SCRIPT}${options.quick ? ' --quick' : ''}, exit ${code}`;
  let result: ScriptResult | null = null;
  try {
    result = parseBenchResult(stdout);
  } catch (error) {
    rec.notes.push(`Its BENCH_RESULT line could not be read: ${(error as Error).message}.`);
  }
  if (result) {
    for (const [k, v] of Object.entries(result.conditions ?? {})) rec.conditions[k] = v;
    for (const m of result.measurements) {
      const known = IDS.find(([id]) => id === m.id);
      const measurement: Measurement = { id: m.id, label: m.label ?? known?.[1] ?? m.id, group: GROUP, ours: true, unit: 'ops/s', values: m.values, higherIsBetter: true };
      rec.measurements.push(measurement);
    }
  }
  const shown = stdout.split('\n').filter((l) => !l.startsWith('BENCH_RESULT ')).join('\n').trim();
  if (shown) rec.notes.push(['```', ...shown.split('\n').slice(-60), '```'].join('\n'));
  if (code !== 0) notRun(`${SCRIPT} exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
  else notRun(`${SCRIPT} printed no BENCH_RESULT line with this figure (its output is shown above)`);
  return rec.result();
}
