/**
 * Crypto pool: the three crypto modes through createSealer(), with 1, 16, 64
 * and 256 seal + open round trips issued per event-loop turn, saturated.
 * Reports throughput and main-thread time per round trip (event-loop
 * utilization, so worker threads' CPU is not counted against the main thread).
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { validateConfig, type CryptoMode } from '../../src/config.ts';
import { KeyRing } from '../../src/crypto/aead.ts';
import { createSealer } from '../../src/crypto/factory.ts';
import type { Sealer } from '../../src/crypto/sealer.ts';
import { BENCH_KEY } from '../lib/engine.ts';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';

const MODES: readonly CryptoMode[] = ['inline', 'pool', 'auto'];
const PER_TURN = [1, 16, 64, 256] as const;
const PAYLOAD_BYTES = 256;

interface RunResult {
  readonly opsPerSecond: number;
  readonly mainThreadMicrosPerOp: number;
}

async function saturate(sealer: Sealer, perTurn: number, timeMs: number, payload: Buffer, ad: Buffer): Promise<RunResult> {
  const roundTrip = async (): Promise<void> => {
    const sealed = await sealer.seal('record', payload, ad);
    const opened = await sealer.open('record', sealed, ad);
    if (!opened) throw new Error('pool bench: a sealed payload did not open');
  };
  let ops = 0;
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  const deadline = start + timeMs;
  while (performance.now() < deadline) {
    // perTurn round trips issued in the same turn: what a server sees when that many requests arrive together.
    await Promise.all(Array.from({ length: perTurn }, roundTrip));
    ops += perTurn;
  }
  const seconds = (performance.now() - start) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  return { opsPerSecond: ops / seconds, mainThreadMicrosPerOp: (elu.active * 1000) / ops };
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('pool');
  const rounds = 3;
  const timeMs = options.quick ? 150 : 1000;
  const ring = new KeyRing(BENCH_KEY);
  const sealers = new Map<CryptoMode, Sealer>();
  for (const mode of MODES) {
    const config = validateConfig({ storageType: 'cache', encryptionKey: BENCH_KEY, crypto: { mode } });
    sealers.set(mode, createSealer(config, ring));
    if (mode === 'pool') rec.conditions['threads'] = `${config.crypto.threads} worker thread(s) (the default: cores − 1, at least 1) beside the event loop`;
  }
  const payload = randomBytes(PAYLOAD_BYTES);
  const ad = Buffer.from('b'.repeat(64), 'latin1');
  rec.conditions['operation'] = `one seal + open round trip of a ${PAYLOAD_BYTES} B record through createSealer() (src/crypto/factory.ts)`;
  rec.conditions['load'] = `saturated: K round trips issued per event-loop turn (Promise.all), the next K as soon as they finish; K = ${PER_TURN.join(', ')}`;
  rec.conditions['main-thread cost'] = 'event-loop utilization (active time) ÷ round trips: the time the event loop could not serve anything else';
  rec.conditions['runs'] = `${rounds} interleaved runs of ${timeMs} ms per mode and K, after a warm-up`;

  const values = new Map<string, { ops: number[]; cpu: number[] }>();
  try {
    for (const mode of MODES) for (const k of PER_TURN) await saturate(sealers.get(mode)!, k, timeMs / 2, payload, ad);
    for (let round = 1; round <= rounds; round++) {
      for (const k of PER_TURN) {
        for (const mode of MODES) {
          const result = await saturate(sealers.get(mode)!, k, timeMs, payload, ad);
          const key = `${mode}.${k}`;
          const entry = values.get(key) ?? { ops: [], cpu: [] };
          entry.ops.push(result.opsPerSecond);
          entry.cpu.push(result.mainThreadMicrosPerOp);
          values.set(key, entry);
          options.progress(`pool ${mode} K=${k} run ${round}/${rounds}: ${Math.round(result.opsPerSecond).toLocaleString('en-US')} round trips/s, ${result.mainThreadMicrosPerOp.toFixed(2)} µs main thread each`);
        }
      }
    }
  } finally {
    for (const sealer of sealers.values()) await sealer.close();
  }
  for (const k of PER_TURN) {
    for (const mode of MODES) {
      const entry = values.get(`${mode}.${k}`)!;
      const label = `${mode}`;
      rec.measurements.push(
        { id: `pool.ops.${mode}.${k}`, label, group: `K = ${k} per turn: throughput`, ours: mode !== 'inline', unit: 'ops/s', values: entry.ops, higherIsBetter: true },
        { id: `pool.cpu.${mode}.${k}`, label, group: `K = ${k} per turn: main-thread time per round trip`, ours: mode !== 'inline', unit: 'µs/op', values: entry.cpu, higherIsBetter: false },
      );
    }
  }
  return rec.result();
}
