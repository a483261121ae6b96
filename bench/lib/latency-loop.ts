/** A bounded request loop that records each operation's latency: the "concurrent requests" of the cleanup case. */
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.ts';

export interface LatencySummary {
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
}

export class LatencyLoop {
  readonly #op: () => Promise<unknown>;
  readonly #concurrency: number;
  #latencies: number[] = [];
  #errors = 0;
  #windowStart = 0;
  #running = false;
  #workers: Promise<void>[] = [];
  /** The first failure seen, for the report. */
  firstError: unknown;

  constructor(op: () => Promise<unknown>, concurrency: number) {
    this.#op = op;
    this.#concurrency = concurrency;
  }

  start(): void {
    this.#running = true;
    this.#windowStart = performance.now();
    this.#workers = Array.from({ length: this.#concurrency }, async () => {
      while (this.#running) {
        const t0 = performance.now();
        try {
          await this.#op();
          this.#latencies.push(performance.now() - t0);
        } catch (error) {
          this.#errors++;
          this.firstError ??= error;
          // A failure that needs no I/O (e.g. from memory) would otherwise spin this loop in
          // microtasks and starve every timer and socket in the process: yield a turn.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    });
  }

  /** Summary of the operations finished since the last call, then starts a new window. */
  window(): LatencySummary {
    const now = performance.now();
    const latencies = this.#latencies;
    const summary: LatencySummary = {
      ops: latencies.length,
      opsPerSecond: latencies.length / ((now - this.#windowStart) / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      // A loop, not Math.max(...latencies): a long window holds more samples than a call can take as arguments.
      max: latencies.length ? latencies.reduce((a, b) => (b > a ? b : a), -Infinity) : Number.NaN,
      errors: this.#errors,
    };
    this.#latencies = [];
    this.#errors = 0;
    this.#windowStart = now;
    return summary;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
  }
}
