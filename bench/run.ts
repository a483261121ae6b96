/**
 * `npm run bench`'s engine half: runs each case family in its own process,
 * shows progress, checks the goals, draws the chart and rewrites BENCHMARKS.md.
 * Usage: node --import tsx bench/run.ts [--quick] [--only=codec,http] [--native=ran|skipped: reason]
 * (families: codec, stores, http, memory, cleanup, pool, galera)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHttpChart } from './chart.ts';
import { evaluateGoals, nativeBenchGoals } from './goals.ts';
import { collectConditions } from './lib/conditions.ts';
import { startMariaDb, type MariaDbOutcome } from './lib/mariadb.ts';
import type { FamilyResult } from './lib/results.ts';
import { nativeSection, writeReport } from './report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = fileURLToPath(new URL('.', import.meta.url));
const FAMILIES = ['codec', 'stores', 'http', 'memory', 'cleanup', 'pool', 'galera'] as const;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const nativeBench = args.find((a) => a.startsWith('--native='))?.slice('--native='.length) ?? 'not run by this command';
const families = FAMILIES.filter((f) => !only || only.includes(f));

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const say = (line: string): void => void process.stderr.write(`[bench ${elapsed()}] ${line}\n`);

function runFamily(family: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(BENCH, 'child.ts'), family, out, ...(quick ? ['--quick'] : [])], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) say(line.trim());
    });
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${family} exited with ${code ?? signal}: ${tail.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

const resultsDir = join(BENCH, 'results');
mkdirSync(resultsDir, { recursive: true });
const scratch = join(ROOT, '.tmp', 'bench-results');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });

say(`${quick ? 'quick' : 'full'} run: ${families.join(', ')}`);
const conditions = collectConditions(ROOT, quick);
// One MariaDB for every family that needs it (stores, cleanup): started once, handed over as MYSQL_URL.
let database: MariaDbOutcome = { ok: false, reason: 'no family in this run needs it' };
if (families.some((f) => f === 'stores' || f === 'cleanup')) {
  say(process.env.MYSQL_URL ? 'using MYSQL_URL' : 'starting a throwaway MariaDB (scripts/mariadb.mjs)');
  database = await startMariaDb(ROOT);
  if (database.ok) {
    process.env.MYSQL_URL = database.db.url;
    process.env.BENCH_DATABASE_ORIGIN = database.db.origin;
  }
  else {
    say(`no database: ${database.reason}`);
    process.env.BENCH_NO_DATABASE = database.reason;
  }
}
const results: FamilyResult[] = [];
const failed: { family: string; reason: string }[] = [];
for (const [index, family] of families.entries()) {
  say(`(${index + 1}/${families.length}) ${family}`);
  const out = join(scratch, `${family}.json`);
  try {
    await runFamily(family, out);
    results.push(JSON.parse(readFileSync(out, 'utf8')) as FamilyResult);
  } catch (error) {
    const reason = (error as Error).message;
    say(`${family} failed: ${reason}`);
    failed.push({ family, reason: `the case crashed: ${reason}` });
  }
}

if (database.ok) await database.db.stop();
const goals = [...evaluateGoals(results), ...nativeBenchGoals(nativeSection(join(ROOT, 'BENCHMARKS.md')))];
const measurements = results.flatMap((r) => r.measurements);
const chartFile = join(resultsDir, 'http-throughput.svg');
const drawn = await writeHttpChart(measurements, chartFile, `${conditions.cpu}, ${conditions.cores} cores, Node ${conditions.node}, ${conditions.quick ? 'quick run' : 'full run'}, commit ${conditions.commit}, load average ${conditions.loadAtStart.toFixed(1)} at start`);
writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify({ conditions, goals, results, failed }, null, 2));
writeReport(join(ROOT, 'BENCHMARKS.md'), {
  conditions,
  families: results,
  failedFamilies: failed,
  goals,
  chartPath: drawn ? 'bench/results/http-throughput.svg' : null,
  elapsedSeconds: (Date.now() - started) / 1000,
  nativeBench,
});
say('goals:');
for (const g of goals) say(`  issue ${g.issue}: ${g.status.padEnd(12)} ${g.goal} — ${g.detail}${g.firm === false ? ' (not firm: runs straddle the goal)' : ''}`);
say(`wrote BENCHMARKS.md, bench/results/latest.json${drawn ? ', bench/results/http-throughput.svg' : ''}`);
