/**
 * A manager's lifecycle: the operations in flight (so close() can let them
 * finish before it closes the stores under them), close() itself, and the
 * cleanup timer.
 */
import { zeroConfigKeys, type ResolvedConfig } from '../config.ts';
import type { KeyRing } from '../crypto/aead.ts';
import type { Sealer } from '../crypto/sealer.ts';
import { asStoreError, SessionClosedError, SessionError, SessionStoreError } from '../errors.ts';
import type { RecordStore } from '../tier/record-store.ts';
import type { VerifiedTokens } from '../tier/token-map.ts';

/** How long close() waits for operations in flight before closing the stores under them (they then fail with ERR_SESSION_CLOSED). */
const CLOSE_DRAIN_MS = 10_000;

export interface ClosableParts {
  readonly config: ResolvedConfig;
  readonly ring: KeyRing;
  readonly sealer: Sealer;
  readonly store: RecordStore;
  readonly tokens: VerifiedTokens;
}

export class Lifecycle {
  readonly #parts: ClosableParts;
  #closed = false;
  #closing: Promise<void> | undefined;
  #inflight = 0;
  #drained: (() => void) | undefined;
  #cleanupTimer: NodeJS.Timeout | undefined;
  #cleanupRunning = false;

  constructor(parts: ClosableParts) {
    this.#parts = parts;
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertOpen(): void {
    if (this.#closed) throw new SessionClosedError();
  }

  /** An operation starts (refused once closed). Pair with leave() in a finally. */
  enter(): void {
    if (this.#closed) throw new SessionClosedError();
    this.#inflight++;
  }

  leave(): void {
    if (--this.#inflight === 0 && this.#drained) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  /** What a failure becomes: once the manager is closing, a store failure is the close's doing, and says so. */
  failure(error: unknown): unknown {
    if (this.#closed && !(error instanceof SessionClosedError) && (error instanceof SessionStoreError || !(error instanceof SessionError))) {
      return new SessionClosedError('session manager closed while this call was in flight', { cause: error });
    }
    return error;
  }

  /** Runs one operation: refused once closed, counted while in flight, its failure translated by failure(). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await work();
    } catch (error) {
      throw this.failure(error);
    } finally {
      this.leave();
    }
  }

  /**
   * Stops the cleanup timer, lets operations in flight finish (for at most
   * CLOSE_DRAIN_MS), then closes the sealer and the store and zeroes the
   * key material the library holds. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    clearTimeout(this.#cleanupTimer);
    const { config, ring, sealer, store, tokens } = this.#parts;
    this.#closing = (async () => {
      await this.#drain();
      const results = await Promise.allSettled([sealer.close(), store.close()]);
      tokens.clear();
      // No key material outlives the manager (the pooled sealer zeroes its own copies).
      ring.zero();
      zeroConfigKeys(config);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw asStoreError('close', failure.reason);
    })();
    return this.#closing;
  }

  #drain(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_DRAIN_MS);
      timer.unref();
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Runs `cleanup` every cleanupInterval (0: never), never two at once; failures go to onError. */
  scheduleCleanup(cleanup: () => Promise<unknown>): void {
    const { cleanupInterval, onError } = this.#parts.config;
    if (cleanupInterval === 0 || this.#closed) return;
    // A timeout chain rather than setInterval: a slow cleanup never overlaps the next one.
    this.#cleanupTimer = setTimeout(async () => {
      if (this.#closed || this.#cleanupRunning) return;
      this.#cleanupRunning = true;
      try {
        await cleanup();
      } catch (error) {
        if (!(error instanceof SessionClosedError)) onError(error instanceof Error ? error : new Error(String(error)));
      } finally {
        this.#cleanupRunning = false;
        this.scheduleCleanup(cleanup);
      }
    }, cleanupInterval);
    this.#cleanupTimer.unref();
  }
}
