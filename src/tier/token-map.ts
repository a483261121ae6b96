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
import type { TierKey as StoreKey } from './tier-key.ts';

/** Claims keep their expiry in whole seconds from here (2020-01-01): a small integer, stored unboxed, until 2088. */
const EPOCH_SECONDS = 1_577_836_800;

/**
 * What one token proved. Its expiry is kept to the second (rounded down:
 * the browser keeps the cookie to the second too, from Expires and
 * Max-Age), as a small integer: an expiry in ms would cost every
 * remembered token a 16-byte heap number.
 */
export class TokenClaims {
  /** The store key of the id the token names (keyed hash under the ring entry the session was found under). */
  readonly key: StoreKey;
  /** The record version the client has seen at least. */
  readonly version: number;
  readonly #expiry: number;

  /** Claims of a token sealed under a previous key are a StaleTokenClaims (a field for a flag that is almost always false would cost every token 8 bytes). */
  static of(key: StoreKey, expiresAt: number, version: number, stale: boolean): TokenClaims {
    return stale ? new StaleTokenClaims(key, expiresAt, version) : new TokenClaims(key, expiresAt, version);
  }

  constructor(key: StoreKey, expiresAt: number, version: number) {
    this.key = key;
    this.version = version;
    this.#expiry = Math.floor(expiresAt / 1000) - EPOCH_SECONDS;
  }

  /** Sealed under a previous key: the manager re-issues it under the current one. */
  get stale(): boolean {
    return false;
  }

  /** The cookie's own sealed expiry, in ms (to the second). */
  get expiresAt(): number {
    return (this.#expiry + EPOCH_SECONDS) * 1000;
  }

  /** The same claims for another key string (the tier's own, once the record is known). */
  withKey(key: StoreKey): TokenClaims {
    return TokenClaims.of(key, this.expiresAt, this.version, this.stale);
  }
}

class StaleTokenClaims extends TokenClaims {
  override get stale(): boolean {
    return true;
  }
}

/**
 * Heap bytes of one entry: the 119-character cookie value (136), the claims
 * object (48) and the Map's slot; the key string is the tier's. Measured by
 * the memory case of `npm run bench` (183 B per token at 100k sessions, Node 20 x64).
 */
export const TOKEN_ENTRY_BYTES = 184;

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
    if (this.#map.has(value)) return;
    if (this.#map.size >= this.capacity) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    // A flat copy: the value is a slice of the request's Cookie header, and keeping the slice would keep the whole header.
    this.#map.set(Buffer.from(value, 'latin1').toString('latin1'), claims);
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}
