/**
 * The goals the other issues set, checked against this run's side-by-side
 * measurements. A goal whose measurements are missing is "not measured",
 * with the reason, never "met".
 */
import type { FamilyResult, Measurement } from './lib/results.ts';
import { ratioOf, formatRatio } from './lib/ratios.ts';

export interface GoalOutcome {
  readonly issue: number;
  readonly goal: string;
  readonly status: 'met' | 'not met' | 'not measured';
  readonly detail: string;
  /** False when single runs fall on both sides of the goal: the verdict rests on the median alone. */
  readonly firm?: boolean;
}

interface RatioGoal {
  readonly issue: number;
  readonly goal: string;
  /** `better` divided by `worse`, paired per run. */
  readonly better: string;
  readonly worse: string;
  readonly test: (ratio: number) => boolean;
  readonly describe: (ratio: string) => string;
}

const RATIO_GOALS: readonly RatioGoal[] = [
  {
    issue: 2,
    goal: 'cookie seal + open within 1.3× of a raw sodium-native loop on the same payload',
    better: 'codec.cookie.raw',
    worse: 'codec.cookie.aead',
    test: (r) => r <= 1.3,
    describe: (r) => `raw loop ÷ ours (aead.ts sealBytes/openBytes on the token payload) = ${r}`,
  },
  {
    issue: 2,
    goal: 'the same, counting the cookie text too (base64url out, shape check and decode in), which the raw loop does not do',
    better: 'codec.cookie.raw',
    worse: 'codec.cookie.token',
    test: (r) => r <= 1.3,
    describe: (r) => `raw loop ÷ ours (token seal + base64url, parse + open) = ${r}`,
  },
  {
    issue: 4,
    goal: 'filesystem ≥ 10× session-file-store write throughput',
    better: 'stores.filesystem.write.ours',
    worse: 'stores.filesystem.write.peer',
    test: (r) => r >= 10,
    describe: (r) => `ours ÷ session-file-store on writes = ${r}`,
  },
  {
    issue: 4,
    goal: 'the same with filesystem.fsync = false on our side (for information: session-file-store still flushes)',
    better: 'stores.filesystem.write.ours-nofsync',
    worse: 'stores.filesystem.write.peer',
    test: (r) => r >= 10,
    describe: (r) => `ours without fsync ÷ session-file-store on writes = ${r}`,
  },
  {
    issue: 5,
    goal: 'database ≥ 3× express-mysql-session on a load + save cycle',
    better: 'stores.database.cycle.ours',
    worse: 'stores.database.cycle.peer',
    test: (r) => r >= 3,
    describe: (r) => `ours ÷ express-mysql-session = ${r}`,
  },
  {
    issue: 5,
    goal: 'database ≥ 20× express-mysql-session on a cache hit',
    better: 'stores.database.hit.ours',
    worse: 'stores.database.hit.peer',
    test: (r) => r >= 20,
    describe: (r) => `ours ÷ express-mysql-session = ${r}`,
  },
  {
    issue: 6,
    goal: 'uWS GET /profile ≥ 85% of uWS hello world',
    better: 'http.read.ours-uws',
    worse: 'http.read.uws-hello',
    test: (r) => r >= 0.85,
    describe: (r) => `ours on uWS ÷ hello world = ${r}`,
  },
  {
    issue: 6,
    goal: 'uWS GET /profile ≥ 4× fastify + @fastify/secure-session',
    better: 'http.read.ours-uws',
    worse: 'http.read.fastify-secure-session',
    test: (r) => r >= 4,
    describe: (r) => `ours on uWS ÷ fastify + @fastify/secure-session = ${r}`,
  },
  {
    issue: 6,
    goal: 'uWS GET /profile ≥ 20× express + express-session',
    better: 'http.read.ours-uws',
    worse: 'http.read.express-session',
    test: (r) => r >= 20,
    describe: (r) => `ours on uWS ÷ express + express-session = ${r}`,
  },
  {
    issue: 3,
    goal: 'pool: ≥ 3× less main-thread CPU per op than inline at ≥ 64 ops per turn (bench: 256 B records through createSealer)',
    // µs per op: lower is better, so ratioOf(pool, inline) is inline ÷ pool.
    better: 'pool.cpu.pool.64',
    worse: 'pool.cpu.inline.64',
    test: (r) => r >= 3,
    describe: (r) => `inline ÷ pool main-thread µs per op at 64 per turn = ${r}`,
  },
  {
    issue: 3,
    goal: 'pool: total throughput ≥ 1.3× inline at ≥ 64 ops per turn (bench: 256 B records through createSealer)',
    better: 'pool.ops.pool.64',
    worse: 'pool.ops.inline.64',
    test: (r) => r >= 1.3,
    describe: (r) => `pool ÷ inline ops/s at 64 per turn = ${r}`,
  },
  {
    issue: 3,
    goal: "pool: 'auto' within 5% of inline at 1 op per turn (bench: 256 B records through createSealer)",
    better: 'pool.ops.auto.1',
    worse: 'pool.ops.inline.1',
    test: (r) => r >= 0.95,
    describe: (r) => `auto ÷ inline ops/s at 1 per turn = ${r}`,
  },
];

export function evaluateGoals(families: readonly FamilyResult[]): GoalOutcome[] {
  const measured = new Map<string, Measurement>();
  const notRun = new Map<string, string>();
  for (const family of families) {
    for (const m of family.measurements) measured.set(m.id, m);
    for (const n of family.notRun) notRun.set(n.id, n.reason);
  }
  return RATIO_GOALS.map((goal) => {
    const better = measured.get(goal.better);
    const worse = measured.get(goal.worse);
    if (!better || !worse) {
      const missing = !better ? goal.better : goal.worse;
      return { issue: goal.issue, goal: goal.goal, status: 'not measured', detail: notRun.get(missing) ?? `${missing} was not measured in this run` };
    }
    // Both measurements are throughput-like or both are cost-like; ratioOf orients by higherIsBetter.
    const ratio = ratioOf(better, worse);
    return {
      issue: goal.issue,
      goal: goal.goal,
      status: goal.test(ratio.median) ? 'met' : 'not met',
      detail: goal.describe(formatRatio(ratio)),
      firm: goal.test(ratio.min) === goal.test(ratio.max),
    };
  });
}

/**
 * Issue 3's own verdicts, as native-bench wrote them in its section (its
 * "Acceptance (issue 3)" table: criterion | measured | met / NOT met).
 */
export function nativeBenchGoals(nativeSection: string): GoalOutcome[] {
  const at = nativeSection.indexOf('Acceptance (issue 3)');
  if (at === -1) {
    return [{ issue: 3, goal: 'pool goals as native-bench measures them', status: 'not measured', detail: 'the native-bench section has no "Acceptance (issue 3)" table' }];
  }
  const outcomes: GoalOutcome[] = [];
  for (const line of nativeSection.slice(at).split('\n').slice(1)) {
    if (outcomes.length > 0 && !line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length < 3 || cells[0] === 'criterion' || /^:?-+/.test(cells[0]!)) continue;
    const verdict = cells[2]!.toLowerCase();
    const status = verdict.includes('not') ? 'not met' : verdict.includes('met') ? 'met' : 'not measured';
    outcomes.push({ issue: 3, goal: `native-bench: ${cells[0]}`, status, detail: `${cells[1]} (native-bench section below)` });
  }
  return outcomes;
}
