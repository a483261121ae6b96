/**
 * PooledSealer: seals and opens in a Piscina worker pool, in batches.
 *
 * A worker round trip costs tens of microseconds of main-thread time; one
 * AEAD operation costs about one. So the operations issued during one
 * event-loop turn are collected and, at the end of the turn (setImmediate),
 * packed into one buffer (batch-layout.ts) that a worker answers in place:
 * one message each way, whatever the batch size.
 *
 * 'pool' mode sends every operation this way. 'auto' mode runs the first
 * operations of each turn inline at once and only sends a batch when a turn
 * carries enough work to pay for the round trip (auto-thresholds.ts).
 *
 * Bounded: at most `maxQueue` operations wait for or sit in the pool; past
 * that, calls reject with SessionOverloadedError. A batch whose worker
 * crashes (or fails in any way) is re-run inline, so no caller is lost or
 * left hanging; Piscina replaces the worker.
 */
import { Piscina } from 'piscina';
import { openBytes, sealBytes, type KeyRing, type Opened, type Purpose } from './aead.ts';
import {
  AUTO_INLINE_BURST_BYTES,
  AUTO_INLINE_BURST_OPS,
  AUTO_POOL_MIN_BYTES,
  AUTO_POOL_MIN_OPS,
  MAX_BATCH_BYTES,
  MAX_BATCH_OPS,
  SPLIT_MIN_OPS,
} from './auto-thresholds.ts';
import {
  isSealOp,
  opCode,
  outputBytesFor,
  SLOT_BYTES,
  SLOT_WORDS,
  STATUS_NOT_OPENED,
  STATUS_OK,
  STATUS_OK_STALE,
  STATUS_PENDING,
  W_AD_LEN,
  W_AD_OFF,
  W_IN_LEN,
  W_IN_OFF,
  W_OP,
  W_OUT_LEN,
  W_OUT_OFF,
  W_STATUS,
  type BatchReply,
  type BatchTask,
  type OpCode,
} from './batch-layout.ts';
import { BatchBuffers, type BatchBuffer } from './batch-buffers.ts';
import type { Sealer } from './sealer.ts';
import { SessionClosedError, SessionOverloadedError } from '../errors.ts';

/**
 * The worker entry sits beside this file: worker.ts when running from
 * source under tsx, worker.js in the compiled dist/ (tsconfig.build.json
 * rewrites the extensions). Workers inherit execArgv, so `--import tsx`
 * reaches them too.
 */
const OWN_URL = import.meta.url;
export const DEFAULT_WORKER_URL = new URL(OWN_URL.endsWith('.ts') ? './worker.ts' : './worker.js', OWN_URL);

/** The inline burst grows at most this many times over (64 × 16 = 1024 operations, one full batch). */
const MAX_BURST_SCALE = 64;

/** Batches queued at each worker at once (measured: 1 leaves the worker idle between batches under load). */
const TASKS_PER_WORKER = 4;

/** Batches in flight per thread before further operations are held back and merged (see #flushCollecting). */
const QUEUED_BATCHES_PER_THREAD = 2;

/** After this many consecutive failed batches the pool is presumed broken (e.g. workers cannot start) and the sealer stays inline. */
const BROKEN_AFTER_FAILURES = 3;

export interface AutoThresholds {
  readonly inlineBurstOps: number;
  readonly inlineBurstBytes: number;
  readonly poolMinOps: number;
  readonly poolMinBytes: number;
}

export const DEFAULT_AUTO_THRESHOLDS: AutoThresholds = Object.freeze({
  inlineBurstOps: AUTO_INLINE_BURST_OPS,
  inlineBurstBytes: AUTO_INLINE_BURST_BYTES,
  poolMinOps: AUTO_POOL_MIN_OPS,
  poolMinBytes: AUTO_POOL_MIN_BYTES,
});

export interface PooledSealerOptions {
  /** 'pool': every operation goes to the pool. 'auto': only turns with enough work (see auto-thresholds.ts). */
  readonly mode: 'pool' | 'auto';
  /** Worker threads (fixed: min = max, so a burst never waits for a thread to start). */
  readonly threads: number;
  /** Operations that may wait for or sit in the pool before calls reject with ERR_SESSION_OVERLOADED. */
  readonly maxQueue: number;
  /** Raw key material, sent once to each worker as workerData. */
  readonly encryptionKey: Uint8Array;
  readonly previousKeys: readonly Uint8Array[];
  /** Receives pool failures that were recovered from (a crashed worker, a broken pool). */
  readonly onError?: (error: Error) => void;
  /** @internal Tests and benchmarks: override the measured auto thresholds. */
  readonly autoThresholds?: AutoThresholds;
  /** @internal Tests: another worker entry (e.g. one that crashes on purpose). */
  readonly workerUrl?: URL;
  /** @internal Tests: extra fields merged into workerData. */
  readonly extraWorkerData?: Record<string, unknown>;
}

/** Counters for tests and benchmarks. */
export interface PooledSealerStats {
  /** Operations run inline on the calling thread (auto mode's small turns and small batches). */
  inlineOps: number;
  /** Of those, operations that were collected and waited for the end of their turn, then ran inline (the batch was too small). */
  deferredInlineOps: number;
  /** Batches sent to the pool, and the operations they held. */
  pooledBatches: number;
  pooledOps: number;
  /** Batches the pool failed (worker crash, bad reply), and their operations, re-run inline. */
  failedBatches: number;
  rerunOps: number;
}

interface PendingOp {
  readonly op: OpCode;
  readonly purpose: Purpose;
  readonly input: Uint8Array;
  readonly additionalData: Uint8Array;
  readonly resolve: (value: never) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `new Promise(captureSettlers)` hands back the settle functions through
 * these two variables, read right after: no executor closure is allocated
 * per operation (the hot path of a batch is mostly allocation).
 */
let capturedResolve: (value: never) => void = () => {};
let capturedReject: (error: unknown) => void = () => {};
function captureSettlers(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

// The inline path as async functions, like InlineSealer's: a throw becomes a rejection without a
// try/catch, and the pooled path (a plain function returning #collect's promise) is not wrapped twice.
async function sealNow(ring: KeyRing, purpose: Purpose, plaintext: Uint8Array, additionalData: Uint8Array): Promise<Buffer> {
  return sealBytes(ring, purpose, plaintext, additionalData);
}

async function openNow(ring: KeyRing, purpose: Purpose, sealed: Uint8Array, additionalData: Uint8Array): Promise<Opened | null> {
  return openBytes(ring, purpose, sealed, additionalData);
}

function runInline(ring: KeyRing, op: PendingOp): void {
  try {
    if (isSealOp(op.op)) op.resolve(sealBytes(ring, op.purpose, op.input, op.additionalData) as never);
    else op.resolve(openBytes(ring, op.purpose, op.input, op.additionalData) as never);
  } catch (error) {
    op.reject(error);
  }
}

/** Packs operations into one ArrayBuffer: slot table, then inputs and additional data, then room for the outputs. */
function packBatch(ops: readonly PendingOp[], buffers: BatchBuffers): BatchTask {
  const count = ops.length;
  let inputBytes = 0;
  let outputBytes = 0;
  for (const op of ops) {
    inputBytes += op.input.byteLength + op.additionalData.byteLength;
    outputBytes += outputBytesFor(op.op, op.input.byteLength);
  }
  const buffer = buffers.take(count * SLOT_BYTES + inputBytes + outputBytes);
  const words = new Uint32Array(buffer, 0, count * SLOT_WORDS);
  const bytes = new Uint8Array(buffer);
  let dataAt = count * SLOT_BYTES;
  let outAt = dataAt + inputBytes;
  for (let slot = 0, base = 0; slot < count; slot++, base += SLOT_WORDS) {
    const op = ops[slot]!;
    // Copy, never hand over: msgpackr output is a view into a slab it keeps using.
    words[base + W_OP] = op.op;
    words[base + W_IN_OFF] = dataAt;
    words[base + W_IN_LEN] = op.input.byteLength;
    bytes.set(op.input, dataAt);
    dataAt += op.input.byteLength;
    words[base + W_AD_OFF] = dataAt;
    words[base + W_AD_LEN] = op.additionalData.byteLength;
    bytes.set(op.additionalData, dataAt);
    dataAt += op.additionalData.byteLength;
    words[base + W_OUT_OFF] = outAt;
    // The buffer may be a reused one: never let a slot show the previous batch's status.
    words[base + W_STATUS] = STATUS_PENDING;
    outAt += outputBytesFor(op.op, op.input.byteLength);
  }
  return { buffer, count };
}

export class PooledSealer implements Sealer {
  readonly #ring: KeyRing;
  readonly #auto: boolean;
  readonly #threads: number;
  readonly #maxQueue: number;
  readonly #thresholds: AutoThresholds;
  readonly #onError: (error: Error) => void;
  readonly #poolOptions: ConstructorParameters<typeof Piscina>[0];
  readonly #workerKeys: { readonly encryptionKey: Uint8Array; readonly previousKeys: readonly Uint8Array[] };
  #pool: Piscina<BatchTask, BatchReply> | undefined;

  /** Operations of the current turn (auto mode), and their payload bytes. */
  #turnOps = 0;
  #turnBytes = 0;
  #turnEndScheduled = false;
  /** Multiplies the inline burst while collecting keeps proving useless (see #runsInlineNow). */
  #burstScale = 1;
  /** Operations collected this turn, waiting for the end of the turn. */
  #collecting: PendingOp[] = [];
  #collectingBytes = 0;
  /** Accepted operations not yet settled that went the batch way (collecting + in the pool): what maxQueue bounds. */
  #held = 0;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #buffers = new BatchBuffers();
  /** Batches posted to the pool and not yet answered. */
  #batchesInFlight = 0;
  #consecutiveFailures = 0;
  /** Sequence number of the last batch dispatched, and the value it had when a failure was last counted. */
  #dispatchSeq = 0;
  #failureCountedAt = 0;
  #broken = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #stats: PooledSealerStats = { inlineOps: 0, deferredInlineOps: 0, pooledBatches: 0, pooledOps: 0, failedBatches: 0, rerunOps: 0 };
  readonly #endTurn = (): void => this.#onTurnEnd();

  constructor(ring: KeyRing, options: PooledSealerOptions) {
    this.#ring = ring;
    // Kept (a replacement pool needs them) and zeroed by close().
    this.#workerKeys = {
      encryptionKey: Uint8Array.from(options.encryptionKey),
      previousKeys: options.previousKeys.map((key) => Uint8Array.from(key)),
    };
    this.#auto = options.mode === 'auto';
    this.#threads = options.threads;
    this.#maxQueue = options.maxQueue;
    this.#thresholds = options.autoThresholds ?? DEFAULT_AUTO_THRESHOLDS;
    this.#onError = options.onError ?? (() => {});
    this.#poolOptions = {
      filename: (options.workerUrl ?? DEFAULT_WORKER_URL).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // Threads are fixed; an idle one is parked (and unref'd by Piscina), not torn down.
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // Several batches may wait at one worker: it runs them back to back instead of idling
      // while the main thread gets round to posting the next one after each reply.
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      // Per-task timing histograms cost main-thread time on every batch and nobody reads them.
      recordTiming: false,
      workerData: { ...this.#workerKeys, ...options.extraWorkerData },
    };
    // 'pool' starts its threads now so the first batch does not pay for thread start-up;
    // 'auto' starts them on the first batch that needs them (many apps never send one).
    if (!this.#auto) this.#startPool();
  }

  get stats(): Readonly<PooledSealerStats> {
    return { ...this.#stats };
  }

  /** @internal Tests: the live worker threads (empty before the pool starts). */
  get workerThreads(): readonly import('node:worker_threads').Worker[] {
    return this.#pool?.threads ?? [];
  }

  seal(purpose: Purpose, plaintext: Uint8Array, additionalData: Uint8Array): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new SessionClosedError());
    if (this.#auto && this.#runsInlineNow(plaintext.byteLength)) return sealNow(this.#ring, purpose, plaintext, additionalData);
    return this.#collect(opCode('seal', purpose), purpose, plaintext, additionalData) as Promise<Buffer>;
  }

  open(purpose: Purpose, sealed: Uint8Array, additionalData: Uint8Array): Promise<Opened | null> {
    if (this.#closed) return Promise.reject(new SessionClosedError());
    if (this.#auto && this.#runsInlineNow(sealed.byteLength)) return openNow(this.#ring, purpose, sealed, additionalData);
    return this.#collect(opCode('open', purpose), purpose, sealed, additionalData) as Promise<Opened | null>;
  }

  /** Settles everything already accepted (drain), then destroys the pool. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      // Send what this turn collected now rather than waiting for the turn to end.
      this.#flushCollecting(true);
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      this.#discardPool();
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      this.#workerKeys.encryptionKey.fill(0);
      for (const key of this.#workerKeys.previousKeys) key.fill(0);
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------- internals

  /**
   * Auto mode's hot-path decision: inline at once while the turn is small.
   *
   * The turn counter is only reset by the end-of-turn callback, which is
   * scheduled once the counter reaches half the base burst. So a steady
   * one-operation-per-turn load schedules one setImmediate per half burst,
   * not one per operation, and the counter may carry up to half a burst from
   * earlier turns (harmless: that turn starts collecting a little sooner).
   *
   * A chain of awaited operations inside one macrotask (a loop over a
   * user's sessions, say) looks like one long turn, but it never has more
   * than one operation collected at a time: waiting for the end of the turn
   * buys nothing. So whenever a collected batch turns out too small for the
   * pool, the burst allowance doubles (up to MAX_BURST_SCALE); a quiet turn
   * puts it back. A real burst is unaffected: its collected batch is large.
   */
  #runsInlineNow(bytes: number): boolean {
    if (this.#broken) {
      this.#stats.inlineOps++;
      return true;
    }
    const turnOps = ++this.#turnOps;
    this.#turnBytes += bytes;
    if (!this.#turnEndScheduled && turnOps * 2 >= this.#thresholds.inlineBurstOps) this.#scheduleTurnEnd();
    const inline =
      this.#collecting.length === 0 &&
      turnOps <= this.#thresholds.inlineBurstOps * this.#burstScale &&
      this.#turnBytes <= this.#thresholds.inlineBurstBytes * this.#burstScale;
    if (inline) this.#stats.inlineOps++;
    return inline;
  }

  #scheduleTurnEnd(): void {
    this.#turnEndScheduled = true;
    setImmediate(this.#endTurn);
  }

  #collect(op: OpCode, purpose: Purpose, input: Uint8Array, additionalData: Uint8Array): Promise<unknown> {
    if (this.#held >= this.#maxQueue) {
      return Promise.reject(new SessionOverloadedError(`crypto queue is full (crypto.maxQueue = ${this.#maxQueue} operations)`));
    }
    this.#held++;
    const pending = new Promise(captureSettlers);
    this.#collecting.push({ op, purpose, input, additionalData, resolve: capturedResolve, reject: capturedReject });
    this.#collectingBytes += input.byteLength + additionalData.byteLength;
    if (!this.#turnEndScheduled) this.#scheduleTurnEnd();
    if (this.#collecting.length >= MAX_BATCH_OPS || this.#collectingBytes >= MAX_BATCH_BYTES) this.#flushCollecting(true);
    return pending;
  }

  #onTurnEnd(): void {
    const quiet = this.#turnOps <= this.#thresholds.inlineBurstOps && this.#turnBytes <= this.#thresholds.inlineBurstBytes;
    if (quiet) this.#burstScale = 1;
    this.#turnEndScheduled = false;
    this.#turnOps = 0;
    this.#turnBytes = 0;
    this.#flushCollecting();
  }

  /**
   * Sends (or, in auto mode, runs inline) what has been collected. Unless
   * forced, it holds the operations back while every worker already has
   * QUEUED_BATCHES_PER_THREAD batches: the next reply sends them, so a busy
   * pool gets fewer, larger batches and pays its per-batch cost (on both
   * threads) less often.
   */
  #flushCollecting(force = false): void {
    const ops = this.#collecting;
    if (ops.length === 0) return;
    const bytes = this.#collectingBytes;
    const small = ops.length < this.#thresholds.poolMinOps && bytes < this.#thresholds.poolMinBytes;
    const inline = this.#broken || (this.#auto && small);
    if (!inline && !force && this.#batchesInFlight >= this.#threads * QUEUED_BATCHES_PER_THREAD) return;
    this.#collecting = [];
    this.#collectingBytes = 0;
    if (inline) {
      if (small) this.#burstScale = Math.min(this.#burstScale * 2, MAX_BURST_SCALE);
      this.#stats.deferredInlineOps += ops.length;
      this.#settleInline(ops);
      return;
    }
    // Several threads: split a large turn so each thread gets a share.
    const chunks = Math.max(1, Math.min(this.#threads, Math.floor(ops.length / SPLIT_MIN_OPS)));
    if (chunks === 1) {
      this.#dispatch(ops);
      return;
    }
    const size = Math.ceil(ops.length / chunks);
    for (let at = 0; at < ops.length; at += size) this.#dispatch(ops.slice(at, at + size));
  }

  /** A batch came back (or failed): send what was held back for a free worker, unless this turn is still collecting. */
  #batchDone(): void {
    this.#batchesInFlight--;
    if (!this.#turnEndScheduled) this.#flushCollecting();
  }

  #settleInline(ops: readonly PendingOp[]): void {
    this.#held -= ops.length;
    this.#stats.inlineOps += ops.length;
    for (const op of ops) runInline(this.#ring, op);
  }

  #startPool(): Piscina<BatchTask, BatchReply> {
    if (this.#pool) return this.#pool;
    const pool = new Piscina<BatchTask, BatchReply>(this.#poolOptions);
    // Piscina emits 'error' for a worker that fails while holding no task, e.g. one that cannot
    // start; it then stops replacing workers, and queued batches would wait forever. So the pool
    // is dropped: destroy() fails its queued batches (re-run inline below), the next batch starts
    // a fresh pool.
    pool.on('error', (error: unknown) => {
      if (this.#pool !== pool) return;
      this.#noteFailure(this.#dispatchSeq, error);
      this.#discardPool();
    });
    this.#pool = pool;
    return pool;
  }

  #discardPool(): void {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) this.#track(pool.destroy().catch(() => {}));
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    const forget = (): void => void this.#inFlight.delete(work);
    work.then(forget, forget);
  }

  #dispatch(ops: PendingOp[]): void {
    const pool = this.#startPool();
    const task = packBatch(ops, this.#buffers);
    const seq = ++this.#dispatchSeq;
    this.#batchesInFlight++;
    this.#stats.pooledBatches++;
    this.#stats.pooledOps += ops.length;
    this.#track(
      pool.run(task, task.buffer instanceof ArrayBuffer ? { transferList: [task.buffer] } : {}).then(
        (reply) => {
          this.#settleFromReply(ops, (reply.ok && reply.buffer) || task.buffer, reply, seq);
          this.#batchDone();
        },
        (error: unknown) => {
          this.#recoverInline(ops, error, seq);
          this.#batchDone();
        },
      ),
    );
  }

  #settleFromReply(ops: readonly PendingOp[], buffer: BatchBuffer, reply: BatchReply, seq: number): void {
    if (!reply.ok) {
      this.#recoverInline(ops, new Error(`crypto worker refused a batch: ${reply.code}`), seq);
      return;
    }
    this.#consecutiveFailures = 0;
    this.#held -= ops.length;
    const words = new Uint32Array(buffer, 0, ops.length * SLOT_WORDS);
    const bytes = Buffer.from(buffer);
    for (let slot = 0, base = 0; slot < ops.length; slot++, base += SLOT_WORDS) {
      const op = ops[slot]!;
      const status = words[base + W_STATUS];
      if (status === STATUS_NOT_OPENED) {
        op.resolve(null as never);
        continue;
      }
      if (status !== STATUS_OK && status !== STATUS_OK_STALE) {
        // Never expected; the slot was not run, so run it here rather than guess.
        runInline(this.#ring, op);
        continue;
      }
      // A copy, not a view: a view would pin the whole batch buffer for as long as a cache keeps one result.
      // (Buffer.copyBytesFrom measured several times slower than allocUnsafe + copy here.)
      const start = words[base + W_OUT_OFF]!;
      const length = words[base + W_OUT_LEN]!;
      const result = Buffer.allocUnsafe(length);
      bytes.copy(result, 0, start, start + length);
      if (isSealOp(op.op)) op.resolve(result as never);
      else op.resolve({ plaintext: result, stale: status === STATUS_OK_STALE } as never);
    }
    // Every result was copied out above: the buffer can carry the next batch. (A failed batch's
    // buffer is never reused: a worker being torn down might still write into it.)
    this.#buffers.give(buffer);
  }

  /** The pool failed this batch (worker crashed, exited, or answered nonsense): run its operations here instead. */
  #recoverInline(ops: readonly PendingOp[], error: unknown, seq: number): void {
    this.#stats.failedBatches++;
    this.#stats.rerunOps += ops.length;
    this.#held -= ops.length;
    for (const op of ops) runInline(this.#ring, op);
    this.#noteFailure(seq, error);
  }

  /**
   * Counts pool failures by incident, not by batch: one crashed worker fails
   * every batch it held, and that is one incident (only a batch dispatched
   * after the last counted failure counts again). After a few incidents in
   * a row with no success between them the pool is presumed broken.
   */
  #noteFailure(seq: number, error: unknown): void {
    if (seq <= this.#failureCountedAt) return;
    this.#failureCountedAt = this.#dispatchSeq;
    const cause = error instanceof Error ? error : new Error(String(error));
    if (++this.#consecutiveFailures >= BROKEN_AFTER_FAILURES && !this.#broken) {
      this.#broken = true;
      this.#discardPool();
      this.#onError(new Error(`crypto worker pool failed ${BROKEN_AFTER_FAILURES} times in a row; crypto now runs inline`, { cause }));
      return;
    }
    this.#onError(new Error('crypto worker failed; the operations it held were re-run inline', { cause }));
  }
}
