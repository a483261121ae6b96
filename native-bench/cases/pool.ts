/**
 * The worker pool, measured against inline crypto: the bare Piscina round
 * trip, batches of 1 to 1024 operations, a saturated loop (the acceptance
 * case), and one operation per turn (what 'auto' must not slow down).
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { KeyRing, openBytes, sealBytes } from '../../src/crypto/aead.ts';
import { PooledSealer } from '../../src/crypto/pooled-sealer.ts';
import { InlineSealer, type Sealer } from '../../src/crypto/sealer.ts';
import { mainThreadCpuNs } from '../conditions.ts';
import { check } from '../micro.ts';
import { median, timed, type Timed } from '../clock.ts';

const KEY = randomBytes(32);
const RING = new KeyRing(KEY);
const AD = Buffer.from('rockstar-session cookie rockstar_session');
/** A cookie token's plaintext: 32-byte id + expiry, as in src/token.ts. */
const COOKIE_PLAINTEXT = randomBytes(48);

/** 'floor' does no crypto at all: it answers from constants, to show what the loop itself costs per operation. */
export type SealerKind = 'inline' | 'pool' | 'auto' | 'floor';

/** Warm-up per sealer before anything is timed. */
const WARM_UP_MS = 400;

/** A Sealer that does no work, for the harness floor: what issuing and awaiting one operation costs the caller in any mode. */
function floorSealer(): Sealer {
  const sealedAnswer = sealBytes(RING, 'cookie', COOKIE_PLAINTEXT, AD);
  const openedAnswer = { plaintext: COOKIE_PLAINTEXT, stale: false };
  return {
    seal: async () => sealedAnswer,
    open: async () => openedAnswer,
    close: async () => {},
  };
}

export function makeSealer(kind: SealerKind, threads = 1): Sealer {
  if (kind === 'floor') return floorSealer();
  if (kind === 'inline') return new InlineSealer(RING);
  return new PooledSealer(RING, { mode: kind, threads, maxQueue: 1_000_000, encryptionKey: KEY, previousKeys: [] });
}

/** Issues `count` operations at once (half seals, half opens of 48-byte payloads) and waits for all; checks a sample. */
async function mixedBurst(sealer: Sealer, sealed: Buffer, count: number, plaintext = COOKIE_PLAINTEXT): Promise<number> {
  const pending: Promise<unknown>[] = new Array(count);
  for (let i = 0; i < count; i++) pending[i] = i & 1 ? sealer.open('cookie', sealed, AD) : sealer.seal('cookie', plaintext, AD);
  const results = await Promise.all(pending);
  if (count > 1) check((results[1] as { plaintext: Buffer } | null)?.plaintext.equals(plaintext), 'an open in the burst returned the plaintext');
  return count;
}

async function warmedSealer(kind: SealerKind, threads = 1): Promise<{ sealer: Sealer; sealed: Buffer }> {
  const sealer = makeSealer(kind, threads);
  const sealed = await sealer.seal('cookie', COOKIE_PLAINTEXT, AD);
  check(openBytes(RING, 'cookie', sealed, AD)?.plaintext.equals(COOKIE_PLAINTEXT), `${kind} seal opens`);
  // Start the threads and check the pool path itself before anything is timed. Bursts for a while,
  // not once: every thread must have booted (under tsx a worker compiles its entry, ~100 ms of CPU)
  // and served, or its start-up lands inside the first measurement.
  const until = performance.now() + WARM_UP_MS;
  do await mixedBurst(sealer, sealed, 512);
  while (performance.now() < until);
  return { sealer, sealed };
}

export interface RoundTrip {
  readonly latencyUs: number;
  readonly mainCpuUs: number;
}

export async function piscinaRoundTrip(quick: boolean): Promise<RoundTrip> {
  const pool = new Piscina<number, number>({ filename: new URL('../workers/echo.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  check((await pool.run(41)) === 41, 'echo worker answers');
  let n = 0;
  const t = await timed(async () => {
    await pool.run(n++);
    return 1;
  }, quick ? 150 : 1000);
  await pool.destroy();
  return { latencyUs: t.wallNsPerOp / 1000, mainCpuUs: t.cpuNsPerOp / 1000 };
}

export interface BatchRow {
  readonly batch: number;
  readonly inline: Timed;
  readonly pool: Timed;
}

export const BATCH_SIZES = [1, 16, 64, 128, 256, 1024] as const;

/** One batch in flight at a time: wall time is latency, main-thread CPU is what the event loop pays. */
export async function batchSweep(quick: boolean): Promise<BatchRow[]> {
  const inline = await warmedSealer('inline');
  const pool = await warmedSealer('pool');
  const rows: BatchRow[] = [];
  for (const batch of BATCH_SIZES) {
    const ms = quick ? 120 : 700;
    rows.push({
      batch,
      inline: await timed(() => mixedBurst(inline.sealer, inline.sealed, batch), ms),
      pool: await timed(() => mixedBurst(pool.sealer, pool.sealed, batch), ms),
    });
  }
  await inline.sealer.close();
  await pool.sealer.close();
  return rows;
}

export interface SizeRow {
  readonly bytes: number;
  readonly batch: number;
  readonly inline: Timed;
  readonly pool: Timed;
}

/** Few but large operations: where bytes, not counts, make the round trip worth it. */
export async function payloadSweep(quick: boolean): Promise<SizeRow[]> {
  const inline = await warmedSealer('inline');
  const pool = await warmedSealer('pool');
  const rows: SizeRow[] = [];
  for (const bytes of [4096, 16384, 65536]) {
    const plaintext = randomBytes(bytes);
    const sealed = await inline.sealer.seal('cookie', plaintext, AD);
    for (const batch of [1, 4]) {
      const ms = quick ? 100 : 500;
      rows.push({
        bytes,
        batch,
        inline: await timed(() => mixedBurst(inline.sealer, sealed, batch, plaintext), ms),
        pool: await timed(() => mixedBurst(pool.sealer, sealed, batch, plaintext), ms),
      });
    }
  }
  await inline.sealer.close();
  await pool.sealer.close();
  return rows;
}

export interface SaturatedRow {
  readonly label: string;
  readonly opsPerTurn: number;
  readonly opsPerSec: number;
  readonly mainCpuNsPerOp: number;
  /** CPU of every other thread (the workers, mostly) per operation. */
  readonly otherCpuNsPerOp: number;
  /** Share of the wall time the main thread was on a CPU: well under 100% means it was waiting (on workers, or on a busy machine). */
  readonly mainBusy: number;
}

/** Operations in flight at most: a server's concurrent requests. Enough to keep every worker fed. */
const IN_FLIGHT_CAP = 2048;

/**
 * The acceptance loop: every event-loop turn issues `opsPerTurn` new
 * operations (half seals, half opens of 48 bytes) without waiting for
 * earlier ones, as a saturated server would, up to IN_FLIGHT_CAP in flight;
 * at the cap it waits (without spinning) for completions.
 */
async function saturate(sealer: Sealer, sealed: Buffer, opsPerTurn: number, ms: number): Promise<{ ops: number; wallNs: number; mainNs: number; allNs: number }> {
  let inFlight = 0;
  let done = 0;
  let wake: (() => void) | undefined;
  const settled = (): void => {
    inFlight--;
    done++;
    if (wake && inFlight <= IN_FLIGHT_CAP - opsPerTurn) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const main0 = mainThreadCpuNs();
  const all0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  let checked = false;
  while (performance.now() < end) {
    if (inFlight > IN_FLIGHT_CAP - opsPerTurn) await new Promise<void>((resolve) => (wake = resolve));
    for (let i = 0; i < opsPerTurn; i++) {
      const op = i & 1 ? sealer.open('cookie', sealed, AD) : sealer.seal('cookie', COOKIE_PLAINTEXT, AD);
      if (!checked && i === 1) {
        checked = true;
        void op.then((o) => check((o as { plaintext: Buffer } | null)?.plaintext.equals(COOKIE_PLAINTEXT), 'an open in the saturated loop returned the plaintext'));
      }
      op.then(settled, (error: unknown) => {
        throw error;
      });
    }
    inFlight += opsPerTurn;
    await nextTurn();
  }
  const wallNs = (performance.now() - t0) * 1e6;
  const mainNs = mainThreadCpuNs() - main0;
  const all = process.cpuUsage(all0);
  while (inFlight > 0) await nextTurn();
  return { ops: done, wallNs, mainNs, allNs: (all.user + all.system) * 1000 };
}

export async function saturatedLoop(quick: boolean): Promise<SaturatedRow[]> {
  const configs: { label: string; kind: SealerKind; threads: number }[] = [
    { label: 'harness floor (no crypto)', kind: 'floor', threads: 1 },
    { label: 'inline', kind: 'inline', threads: 1 },
    { label: 'pool, 1 thread', kind: 'pool', threads: 1 },
    { label: 'pool, 2 threads', kind: 'pool', threads: 2 },
    { label: 'auto, 1 thread', kind: 'auto', threads: 1 },
  ];
  const rounds = quick ? 1 : 3;
  const ms = quick ? 250 : 1000;
  const rows: SaturatedRow[] = [];
  for (const opsPerTurn of [64, 256]) {
    const sealers = await Promise.all(configs.map((c) => warmedSealer(c.kind, c.threads)));
    const totals = configs.map(() => ({ ops: 0, wallNs: 0, mainNs: 0, allNs: 0 }));
    // Rounds interleave the configurations so that drift on a shared machine hits them alike.
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < configs.length; i++) {
        const s = sealers[i]!;
        await saturate(s.sealer, s.sealed, opsPerTurn, ms / 5); // warm-up
        const r = await saturate(s.sealer, s.sealed, opsPerTurn, ms);
        const t = totals[i]!;
        t.ops += r.ops;
        t.wallNs += r.wallNs;
        t.mainNs += r.mainNs;
        t.allNs += r.allNs;
      }
    }
    configs.forEach((c, i) => {
      const t = totals[i]!;
      rows.push({
        label: c.label,
        opsPerTurn,
        opsPerSec: (t.ops * 1e9) / t.wallNs,
        mainCpuNsPerOp: t.mainNs / t.ops,
        otherCpuNsPerOp: Math.max(0, t.allNs - t.mainNs) / t.ops,
        mainBusy: t.mainNs / t.wallNs,
      });
    });
    await Promise.all(sealers.map((s) => s.sealer.close()));
  }
  return rows;
}

export interface OnePerTurnRow {
  readonly pattern: string;
  /** Median CPU time per operation (the process's; no worker runs in these patterns). */
  readonly inlineCpuNsPerOp: number;
  readonly autoCpuNsPerOp: number;
  /** auto / inline CPU per operation, median over interleaved rounds. */
  readonly ratio: number;
  /** The same from wall time (more exposed to other load on the machine). */
  readonly wallRatio: number;
}

function cpuNsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/**
 * One operation at a time, awaited: as a chain inside one task, and with an
 * event-loop turn between operations. Measured in CPU time (getrusage, µs
 * resolution; precise for the running thread) because wall time on a shared
 * 2-core machine swings by more than the 5% this case looks for.
 */
export async function onePerTurn(quick: boolean): Promise<OnePerTurnRow[]> {
  const inline = await warmedSealer('inline');
  const auto = await warmedSealer('auto');
  const patterns: { pattern: string; ops: number; step: (s: Sealer, sealed: Buffer, n: number) => Promise<void> }[] = [
    {
      pattern: 'awaited chain (seal+open, no turn between)',
      ops: quick ? 4000 : 20_000,
      step: async (s, sealed, n) => {
        for (let i = 0; i < n; i += 2) {
          await s.seal('cookie', COOKIE_PLAINTEXT, AD);
          await s.open('cookie', sealed, AD);
        }
      },
    },
    {
      pattern: 'one operation per event-loop turn (setImmediate between)',
      ops: quick ? 2000 : 10_000,
      step: async (s, sealed, n) => {
        for (let i = 0; i < n; i += 2) {
          await s.seal('cookie', COOKIE_PLAINTEXT, AD);
          await nextTurn();
          await s.open('cookie', sealed, AD);
          await nextTurn();
        }
      },
    },
  ];
  const rounds = quick ? 5 : 21;
  const rows: OnePerTurnRow[] = [];
  const pooledBefore = (auto.sealer as PooledSealer).stats.pooledOps;
  for (const { pattern, ops, step } of patterns) {
    const cpu = { inline: [] as number[], auto: [] as number[] };
    const ratios: number[] = [];
    const wallRatios: number[] = [];
    await step(inline.sealer, inline.sealed, ops);
    await step(auto.sealer, auto.sealed, ops);
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always runs on a warmer or colder machine.
      const order = round % 2 ? (['auto', 'inline'] as const) : (['inline', 'auto'] as const);
      const wall = { inline: 0, auto: 0 };
      const used = { inline: 0, auto: 0 };
      for (const which of order) {
        const s = which === 'inline' ? inline : auto;
        const c0 = cpuNsNow();
        const t0 = performance.now();
        await step(s.sealer, s.sealed, ops);
        wall[which] = (performance.now() - t0) * 1e6;
        used[which] = cpuNsNow() - c0;
      }
      cpu.inline.push(used.inline / ops);
      cpu.auto.push(used.auto / ops);
      ratios.push(used.auto / used.inline);
      wallRatios.push(wall.auto / wall.inline);
    }
    rows.push({
      pattern,
      inlineCpuNsPerOp: median(cpu.inline),
      autoCpuNsPerOp: median(cpu.auto),
      ratio: median(ratios),
      wallRatio: median(wallRatios),
    });
  }
  check((auto.sealer as PooledSealer).stats.pooledOps === pooledBefore, 'auto sent nothing to the pool one operation at a time');
  await inline.sealer.close();
  await auto.sealer.close();
  return rows;
}
