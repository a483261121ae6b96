/**
 * Memory: bytes each cached session costs our `cache` store, at 100k and 1M
 * sessions, each count filled in a fresh process and measured after full GCs.
 * memorystore (express-session) alongside for contrast.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

interface ChildResult {
  readonly bytesPerSession: number;
  readonly heapPerSession: number;
  readonly externalPerSession: number;
  readonly arrayBuffersPerSession: number;
  readonly rssPerSession: number;
  readonly fillSeconds: number;
  /** Sealed record size (ours-direct only; 0 otherwise). */
  readonly sealedBytes: number;
}

function measure(kind: string, count: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', CHILD, kind, String(count)],
      { timeout: 300_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message} ${stderr.slice(-300)}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult)),
    );
  });
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('memory');
  const plan: [kind: string, label: string, ours: boolean, counts: number[]][] = [
    ['ours', "ours: storageType 'cache', filled through the manager (create + save)", true, options.quick ? [100_000] : [100_000, 1_000_000]],
    ['ours-direct', "ours: storageType 'cache', filled below the manager with real-size sealed records", true, [100_000, 1_000_000]],
    ['memorystore', 'memorystore 1.6 (plaintext JSON strings in an LRU)', false, options.quick ? [100_000] : [100_000, 1_000_000]],
  ];
  rec.conditions['session'] = "the login example's session (user_id, username, roles, login_time), created through the manager (create + save) or memorystore.set";
  rec.conditions['measure'] = 'growth of process.memoryUsage() heapUsed + external after 4 forced GCs (node --expose-gc), in a fresh process per count, warm-up excluded';
  rec.conditions['why not + arrayBuffers'] = "Node counts arrayBuffers inside external already (its docs say so); adding it again would count every Buffer twice. It is shown apart";
  rec.conditions['runs'] = 'one fill per count: the figure is deterministic to within a few bytes per session';
  rec.conditions['fills'] = options.quick
    ? 'the 1M figure for ours comes from the fill below the manager (a copy of a real sealed record per session, under a fresh store key); at 100k both fills are shown, so the two can be compared'
    : 'both fills at both counts: through the manager, and below it (a copy of a real sealed record per session, under a fresh store key)';
  if (options.quick) rec.conditions['quick run'] = 'the manager fill and memorystore at 100k only (a 1M manager fill takes about a minute)';
  const summary: string[] = [];
  for (const [kind, label, ours, counts] of plan) {
    for (const count of counts) {
      options.progress(`memory: filling ${kind} with ${count.toLocaleString('en-US')} sessions`);
      const group = `${count.toLocaleString('en-US')} sessions`;
      try {
        const result = await measure(kind, count);
        rec.measurements.push({
          id: `memory.${kind}.${count}`,
          label,
          group,
          ours,
          unit: 'bytes',
          values: [result.bytesPerSession],
          extra: { sealed: [result.sealedBytes], heap: [result.heapPerSession], external: [result.externalPerSession], arrayBuffers: [result.arrayBuffersPerSession], rss: [result.rssPerSession] },
          higherIsBetter: false,
        });
        summary.push(
          `${label} at ${group}: ${Math.round(result.bytesPerSession)} B per session (heap ${Math.round(result.heapPerSession)} B, external ${Math.round(result.externalPerSession)} B of which ArrayBuffers ${Math.round(result.arrayBuffersPerSession)} B; RSS grew ${Math.round(result.rssPerSession)} B per session; fill took ${result.fillSeconds.toFixed(1)} s).`,
        );
        options.progress(`memory ${kind} ${count}: ${Math.round(result.bytesPerSession)} B per session`);
      } catch (error) {
        rec.notRun.push({ id: `memory.${kind}.${count}`, label, group, reason: (error as Error).message.split('\n')[0]! });
      }
    }
  }
  rec.notes.push(...summary);
  return rec.result();
}
