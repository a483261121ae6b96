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
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => done) : done;
    this.#tails.set(key, tail);
    const result = previous ? previous.then(work) : work();
    const finish = (): void => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
    result.then(finish, finish);
    return result;
  }

  /** Keys with work queued or running (for tests and metrics). */
  get size(): number {
    return this.#tails.size;
  }
}
