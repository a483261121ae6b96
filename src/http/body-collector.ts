/**
 * Collects a request body pushed in chunks, under a byte bound. The chunks
 * arrive whether or not the handler has asked for the body yet (uWS wants
 * its data handler attached before the first await), so the outcome is kept
 * as state and only becomes a promise when asked for: a body nobody reads
 * never turns into an unhandled rejection.
 */
import { bodyTooLarge } from './body.ts';

type Outcome = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly error: Error };

export class BodyCollector {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #outcome: Outcome | undefined;
  #waiters: Array<(outcome: Outcome) => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  /** Adds a chunk (the caller copies it first if its memory is reused). Returns false once the body is over the limit. */
  push(chunk: Buffer): boolean {
    if (this.#outcome) return false;
    this.#size += chunk.byteLength;
    if (this.#size > this.#limit) {
      this.fail(bodyTooLarge(this.#limit));
      return false;
    }
    if (chunk.byteLength > 0) this.#chunks.push(chunk);
    return true;
  }

  end(): void {
    if (this.#outcome) return;
    const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#size);
    this.#settle({ ok: true, body });
  }

  fail(error: Error): void {
    if (this.#outcome) return;
    this.#settle({ ok: false, error });
  }

  read(): Promise<Buffer> {
    const outcome = this.#outcome;
    if (outcome) return outcome.ok ? Promise.resolve(outcome.body) : Promise.reject(outcome.error);
    return new Promise((resolve, reject) => {
      this.#waiters.push((o) => (o.ok ? resolve(o.body) : reject(o.error)));
    });
  }

  #settle(outcome: Outcome): void {
    this.#outcome = outcome;
    this.#chunks = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake(outcome);
  }
}
