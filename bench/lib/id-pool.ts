/** Hands out the next item of a fixed set, round robin: concurrent workers never touch the same session at once. */
export class RoundRobin<T> {
  readonly #items: readonly T[];
  #next = 0;

  constructor(items: readonly T[]) {
    if (items.length === 0) throw new Error('RoundRobin needs at least one item');
    this.#items = items;
  }

  next(): T {
    const item = this.#items[this.#next]!;
    this.#next = (this.#next + 1) % this.#items.length;
    return item;
  }
}
