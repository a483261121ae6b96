/**
 * npm run bench:native [-- --quick] [-- --write]
 *
 * Measures the building blocks under every engine number: the AEAD by
 * payload size (and node:crypto for contrast), msgpackr against JSON, the
 * worker pool against inline crypto, and lru-cache. Every case checks its
 * result before it is timed. Prints markdown tables; a full run also writes
 * native-bench/RESULTS.md and the native-bench section of BENCHMARKS.md
 * (a --quick run writes them only with --write: its short samples are noisy).
 */
import { writeFileSync } from 'node:fs';
import {
  AUTO_INLINE_BURST_BYTES,
  AUTO_INLINE_BURST_OPS,
  AUTO_POOL_MIN_BYTES,
  AUTO_POOL_MIN_OPS,
} from '../src/crypto/auto-thresholds.ts';
import { AEAD_SIZES, aeadCases } from './cases/aead.ts';
import { codecCases, codecPayloadBytes } from './cases/codec.ts';
import { lruCases } from './cases/lru.ts';
import { batchSweep, onePerTurn, payloadSweep, piscinaRoundTrip, saturatedLoop } from './cases/pool.ts';
import { loadavg } from 'node:os';
import { conditions, mainThreadClockName } from './conditions.ts';
import { conditionsLine, ns, rate, ratio, table, writeSection } from './report.ts';

const quick = process.argv.includes('--quick');
const write = !quick || process.argv.includes('--write');
const started = performance.now();
const sections: string[] = [];

function emit(text: string): void {
  sections.push(text);
  process.stdout.write(`${text}\n\n`);
}

function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' / ') + ' (1 / 5 / 15 min)';
}

function kib(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
}

const cond = conditions(quick);
emit(`## native-bench: the building blocks\n\n${conditionsLine(cond, mainThreadClockName())}`);

// ---------------------------------------------------------------- AEAD
const aead = await aeadCases(quick);
const aeadNs = (name: string): string => ns(aead.find((r) => r.name === name)!.nsPerOp);
emit(
  `### AEAD seal/open, median time per operation\n\n` +
    table(
      ['payload', 'sodium XChaCha20-Poly1305 seal', 'open', 'node:crypto AES-256-GCM seal', 'open', 'node:crypto ChaCha20-Poly1305 seal', 'open'],
      AEAD_SIZES.map((size) => {
        const l = kib(size);
        return [
          l,
          aeadNs(`sodium seal ${l}`),
          aeadNs(`sodium open ${l}`),
          aeadNs(`node:crypto aes-256-gcm seal ${l}`),
          aeadNs(`node:crypto aes-256-gcm open ${l}`),
          aeadNs(`node:crypto chacha20-poly1305 seal ${l}`),
          aeadNs(`node:crypto chacha20-poly1305 open ${l}`),
        ];
      }),
    ) +
    `\n\nSodium seals include the engine's header (version, key id, 24-byte nonce from a pre-filled pool); node:crypto seals include a fresh 12-byte IV and a cipher object per operation, as real use needs.`,
);

// ---------------------------------------------------------------- codec
const codec = await codecCases(quick);
const sizes = codecPayloadBytes();
emit(
  `### Record codec: msgpackr (src/codec.ts) against JSON\n\n` +
    table(
      ['payload', 'msgpackr encode', 'JSON encode', 'msgpackr decode', 'JSON decode', 'msgpack bytes', 'JSON bytes'],
      sizes.map(({ name, msgpack, json }) => {
        const find = (prefix: string): string => ns(codec.find((r) => r.name.startsWith(prefix) && r.name.includes(name))!.nsPerOp);
        return [name, find('msgpackr encode'), find('JSON encode'), find('msgpackr decode'), find('JSON decode'), msgpack, json];
      }),
    ) +
    `\n\nmsgpackr keeps Dates, Uint8Arrays and bigints that JSON loses; the JSON column is the speed it is measured against, not an alternative format.`,
);

// ---------------------------------------------------------------- lru-cache
const lru = await lruCases(quick);
emit(`### lru-cache\n\n` + table(['operation', 'median per op'], lru.map((r) => [r.name, ns(r.nsPerOp)])));

// ---------------------------------------------------------------- pool
const rt = await piscinaRoundTrip(quick);
emit(
  `### Piscina round trip (one task at a time, echo worker)\n\n` +
    table(['', 'per task'], [
      ['latency (wall)', ns(rt.latencyUs * 1000)],
      ['main-thread CPU', ns(rt.mainCpuUs * 1000)],
    ]),
);

const sweep = await batchSweep(quick);
emit(
  `### Batches against inline (48-byte payloads, half seal / half open, one batch in flight, 1 worker thread)\n\n` +
    table(
      ['ops per batch', 'inline wall/op', 'inline main CPU/op', 'pool wall/op', 'pool main CPU/op', 'main CPU saved (inline ÷ pool)'],
      sweep.map((r) => [r.batch, ns(r.inline.wallNsPerOp), ns(r.inline.cpuNsPerOp), ns(r.pool.wallNsPerOp), ns(r.pool.cpuNsPerOp), ratio(r.inline.cpuNsPerOp / r.pool.cpuNsPerOp)]),
    ),
);

const bySize = await payloadSweep(quick);
emit(
  `### Large payloads: where bytes make the round trip pay (half seal / half open, 1 worker thread)\n\n` +
    table(
      ['payload', 'ops per batch', 'inline main CPU/op', 'pool main CPU/op', 'main CPU saved', 'inline wall/op', 'pool wall/op'],
      bySize.map((r) => [kib(r.bytes), r.batch, ns(r.inline.cpuNsPerOp), ns(r.pool.cpuNsPerOp), ratio(r.inline.cpuNsPerOp / r.pool.cpuNsPerOp), ns(r.inline.wallNsPerOp), ns(r.pool.wallNsPerOp)]),
    ),
);

const saturated = await saturatedLoop(quick);
const load = loadAverage();
emit(
  `### Saturated seal/open loop (every turn issues N new operations, 48-byte payloads, up to 2048 in flight)\n\n` +
    table(
      ['ops per turn', 'sealer', 'throughput', 'vs inline', 'main CPU/op', 'main CPU saved vs inline', 'worker CPU/op', 'main thread busy'],
      saturated.map((r) => {
        const base = saturated.find((b) => b.label === 'inline' && b.opsPerTurn === r.opsPerTurn)!;
        const pooled = r.label.startsWith('pool') || r.label.startsWith('auto');
        return [
          r.opsPerTurn,
          r.label,
          rate(r.opsPerSec),
          ratio(r.opsPerSec / base.opsPerSec),
          ns(r.mainCpuNsPerOp),
          ratio(base.mainCpuNsPerOp / r.mainCpuNsPerOp),
          pooled ? ns(r.otherCpuNsPerOp) : '–',
          `${(r.mainBusy * 100).toFixed(0)}%`,
        ];
      }),
    ) +
    `\n\nThe harness floor is a Sealer that answers from constants: what issuing and awaiting one operation costs ` +
    `the caller whatever the mode. Load average when this case ended: ${load}. Throughput depends on the machine being otherwise idle; ` +
    `CPU per operation (main thread from schedstat, workers = whole process minus main) is the steadier figure.`,
);

const single = await onePerTurn(quick);
emit(
  `### One operation at a time: 'auto' against inline (CPU time, median of interleaved rounds)\n\n` +
    table(
      ['pattern', 'inline CPU/op', 'auto CPU/op', 'auto ÷ inline (CPU)', 'auto ÷ inline (wall)'],
      single.map((r) => [r.pattern, ns(r.inlineCpuNsPerOp), ns(r.autoCpuNsPerOp), ratio(r.ratio), ratio(r.wallRatio)]),
    ),
);

// ---------------------------------------------------------------- acceptance and thresholds
const at64 = (label: string) => saturated.find((r) => r.opsPerTurn === 64 && r.label === label)!;
const inline64 = at64('inline');
const floor64 = at64('harness floor (no crypto)');
const acceptance: [string, string, string][] = [];
for (const label of ['pool, 1 thread', 'pool, 2 threads', 'auto, 1 thread']) {
  const r = at64(label);
  const cpu = inline64.mainCpuNsPerOp / r.mainCpuNsPerOp;
  const own = (inline64.mainCpuNsPerOp - floor64.mainCpuNsPerOp) / Math.max(1, r.mainCpuNsPerOp - floor64.mainCpuNsPerOp);
  const tput = r.opsPerSec / inline64.opsPerSec;
  acceptance.push([`${label}, 64 ops/turn: main CPU per op ≥ 3× less than inline (whole loop)`, ratio(cpu), cpu >= 3 ? 'met' : 'NOT met']);
  acceptance.push([`${label}, 64 ops/turn: the same, the sealer's own share (loop floor subtracted)`, ratio(own), own >= 3 ? 'met' : 'NOT met']);
  acceptance.push([`${label}, 64 ops/turn: throughput ≥ 1.3× inline`, ratio(tput), tput >= 1.3 ? 'met' : 'NOT met']);
}
for (const r of single) {
  acceptance.push([`auto within 5% of inline, ${r.pattern}`, `${((r.ratio - 1) * 100).toFixed(1)}%`, r.ratio <= 1.05 ? 'met' : 'NOT met']);
}
emit(`### Acceptance (issue 3)\n\n` + table(['criterion', 'measured', ''], acceptance));

const crossover = sweep.find((r) => r.pool.cpuNsPerOp < r.inline.cpuNsPerOp);
const bytesCrossover = bySize.find((r) => r.batch === 1 && r.pool.cpuNsPerOp < r.inline.cpuNsPerOp);
emit(
  `### 'auto' thresholds\n\n` +
    `Smallest measured batch whose main-thread CPU per op in the pool is below inline: ${crossover ? crossover.batch : 'none'}; ` +
    `smallest single payload for which one pooled operation costs the main thread less than inline: ${bytesCrossover ? kib(bytesCrossover.bytes) : 'none measured'}.\n\n` +
    table(['constant (src/crypto/auto-thresholds.ts)', 'value'], [
      ['AUTO_INLINE_BURST_OPS', AUTO_INLINE_BURST_OPS],
      ['AUTO_INLINE_BURST_BYTES', kib(AUTO_INLINE_BURST_BYTES)],
      ['AUTO_POOL_MIN_OPS', AUTO_POOL_MIN_OPS],
      ['AUTO_POOL_MIN_BYTES', kib(AUTO_POOL_MIN_BYTES)],
    ]),
);

const elapsed = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(`native-bench finished in ${elapsed} s\n`);
if (write) {
  const body = sections.join('\n\n');
  writeSection(new URL('../BENCHMARKS.md', import.meta.url).pathname, body);
  writeFileSync(new URL('./RESULTS.md', import.meta.url), `${body.replace(/^## /, '# ')}\n`);
  process.stdout.write('wrote BENCHMARKS.md (native-bench section) and native-bench/RESULTS.md\n');
}
