/**
 * Serializes async work per key within this process.
 *
 * Writers to one session take turns here, so 100 concurrent update()s in one
 * process cost 100 writes rather than ~5 000 compare-and-swap retries; the
 * store's CAS still arbitrates between processes and nodes.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous ? previous.then(work) : work();
    // Settles (never rejects) once this work has: the next writer for the key starts then.
    const tail = result.then(ignore, ignore);
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (for tests and metrics). */
  get size(): number {
    return this.#tails.size;
  }
}

function ignore(): void {}
