/**
 * VerifiedTokens: what each cookie value seen before proved, so a request
 * carrying it costs no base64, no AEAD and no hash.
 *
 * Keyed by the exact cookie value: only a value that authenticated is ever
 * stored, and a lookup matches only that same string, so no other value
 * (a flipped, truncated or re-cased one) can borrow its claims. Expiry is
 * checked by the caller on every use. Bounded in entries: when full, the
 * oldest entry goes (insertion order; a hit does not reorder, which keeps the
 * hit path to one Map lookup). A forgotten token is simply verified again.
 */
import type { StoreKey } from '../stores/store.ts';

export interface TokenClaims {
  /** The store key of the id the token names (keyed hash under the ring entry the session was found under). */
  readonly key: StoreKey;
  /** The cookie's own sealed expiry (ms). */
  readonly expiresAt: number;
  /** The record version the client has seen at least. */
  readonly version: number;
  /** Sealed under a previous key: the manager re-issues it under the current one. */
  readonly stale: boolean;
}

/** Heap bytes of one entry: the 119-character cookie value, the claims object and the Map's slot (measured like tier/record-tier.ts's overhead). */
export const TOKEN_ENTRY_BYTES = 232;

export class VerifiedTokens {
  readonly #map = new Map<string, TokenClaims>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(value: string): TokenClaims | undefined {
    return this.#map.get(value);
  }

  remember(value: string, claims: TokenClaims): void {
    if (this.#map.size >= this.capacity && !this.#map.has(value)) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(value, claims);
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}
