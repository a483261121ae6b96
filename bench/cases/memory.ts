/**
 * Memory: bytes each cached session costs our `cache` store, at 100k and 1M
 * sessions, each count filled in a fresh process and measured after full
 * GCs, beside the engine's own estimate (manager.cacheStats(), when the
 * engine has it) and memorystore (express-session) for contrast.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';
import type { CacheView } from './memory-child.ts';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

interface ChildResult {
  readonly bytesPerSession: number;
  readonly heapPerSession: number;
  readonly externalPerSession: number;
  readonly arrayBuffersPerSession: number;
  readonly rssPerSession: number;
  readonly fillSeconds: number;
  readonly stats: CacheView | null;
  readonly statsBefore: CacheView | null;
}

function measure(kind: string, count: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', CHILD, kind, String(count)],
      { timeout: 600_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message} ${stderr.slice(-300)}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult)),
    );
  });
}

/** Per-entry figures from the engine's own stats, as extra columns of the measurement. */
function statsExtra(result: ChildResult, count: number): Record<string, number[]> {
  const stats = result.stats;
  if (!stats) return {};
  const extra: Record<string, number[]> = { entries: [stats.entries], estimatePerEntry: [stats.entries > 0 ? stats.bytes / stats.entries : Number.NaN] };
  // The growth over the fill, so the warm-up sessions do not blur the per-session figure.
  const before = result.statsBefore;
  if (before) extra.estimatePerSession = [(stats.bytes - before.bytes) / count];
  if (stats.tokens !== undefined) extra.tokens = [stats.tokens];
  if (stats.tokenCapacity !== undefined) extra.tokenCapacity = [stats.tokenCapacity];
  if (stats.maxBytes !== undefined) extra.maxBytes = [stats.maxBytes];
  return extra;
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('memory');
  const plan: [kind: string, label: string, ours: boolean, counts: number[]][] = [
    ['ours', "ours: storageType 'cache', the example's login then one request with its cookie", true, [100_000, 1_000_000]],
    ['ours-records-only', "ours: storageType 'cache', the example's login only (no request, so no verified token from one)", true, options.quick ? [100_000] : [100_000, 1_000_000]],
    ['memorystore', 'memorystore 1.6 (plaintext JSON strings in an LRU)', false, options.quick ? [100_000] : [100_000, 1_000_000]],
  ];
  rec.conditions['session'] =
    "the example's login (examples/routes.ts): create, user id on the session, data {user_id, username, roles, login_time: Date}, regenerate (a fresh id); for memorystore the same data in express-session's session object";
  rec.conditions['production shape'] = 'the first row then makes the request a browser makes next, getSessionFromCookie with the cookie the login set, so the verified-token map (when the engine has one) holds one entry per session as in production';
  rec.conditions['measure'] = 'growth of process.memoryUsage() heapUsed + external after 4 forced GCs (node --expose-gc), in a fresh process per count, 1,000 warm-up sessions excluded';
  rec.conditions['why not + arrayBuffers'] = "Node counts arrayBuffers inside external already (its docs say so); adding it again would count every Buffer twice. It is shown apart";
  rec.conditions['engine estimate'] = "manager.cacheStats() when the engine has it (bytes: its estimate of what the cached open records cost; tokens: entries in its verified-token map), else the cache store's own getter, else none";
  rec.conditions['runs'] = 'one fill per count: the figure is deterministic to within a few bytes per session';
  if (options.quick) rec.conditions['quick run'] = 'the login-only fill and memorystore at 100k only';
  // Heap figures do not depend on timing, so two fills run at once (one per core), the biggest first.
  const jobs = plan.flatMap(([kind, label, ours, counts]) => counts.map((count) => ({ kind, label, ours, count })));
  const outcomes = new Map<(typeof jobs)[number], ChildResult | Error>();
  const queue = [...jobs].sort((a, b) => b.count - a.count);
  const lane = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      options.progress(`memory: filling ${job.kind} with ${job.count.toLocaleString('en-US')} sessions`);
      try {
        const result = await measure(job.kind, job.count);
        outcomes.set(job, result);
        options.progress(`memory ${job.kind} ${job.count}: ${Math.round(result.bytesPerSession)} B per session`);
      } catch (error) {
        outcomes.set(job, error as Error);
      }
    }
  };
  await Promise.all([lane(), lane()]);
  rec.conditions['fills'] = 'two fills at a time, each in its own process (the figures are heap sizes, not timings)';
  const summary: string[] = [];
  for (const job of jobs) {
    const { kind, label, ours, count } = job;
    const group = `${count.toLocaleString('en-US')} sessions`;
    const result = outcomes.get(job)!;
    if (result instanceof Error) {
      rec.notRun.push({ id: `memory.${kind}.${count}`, label, group, reason: result.message.split('\n')[0]! });
      continue;
    }
    rec.measurements.push({
      id: `memory.${kind}.${count}`,
      label,
      group,
      ours,
      unit: 'bytes',
      values: [result.bytesPerSession],
      extra: {
        heap: [result.heapPerSession],
        external: [result.externalPerSession],
        arrayBuffers: [result.arrayBuffersPerSession],
        rss: [result.rssPerSession],
        fillSeconds: [result.fillSeconds],
        ...statsExtra(result, count),
      },
      higherIsBetter: false,
    });
    const s = result.stats;
    summary.push(
      `${label} at ${group}: ${Math.round(result.bytesPerSession)} B per session (heap ${Math.round(result.heapPerSession)} B, external ${Math.round(result.externalPerSession)} B of which ArrayBuffers ${Math.round(result.arrayBuffersPerSession)} B; RSS grew ${Math.round(result.rssPerSession)} B per session; fill took ${result.fillSeconds.toFixed(1)} s)` +
        (s
          ? `; ${s.source}: ${s.entries.toLocaleString('en-US')} entries, ${Math.round(s.bytes).toLocaleString('en-US')} B estimated (${s.entries > 0 ? Math.round(s.bytes / s.entries) : 'n/a'} B per entry)` +
            (s.tokens !== undefined ? `, ${s.tokens.toLocaleString('en-US')} verified tokens${s.tokenCapacity !== undefined ? ` (capacity ${s.tokenCapacity.toLocaleString('en-US')})` : ''}` : '') +
            '.'
          : ours
            ? '; the engine offers no cache statistics in this tree.'
            : '.'),
    );
  }
  rec.notes.push(...summary);
  return rec.result();
}
