/**
 * VerifiedTokens: what each cookie value seen before proved, so a request
 * carrying it costs no base64, no AEAD and no hash.
 *
 * A lookup matches only the exact cookie value that was remembered, and
 * only a value that authenticated is ever remembered, so no other value (a
 * flipped, truncated or re-cased one) can borrow its claims. Expiry is
 * checked by the caller on every use. Bounded in entries: when full, the
 * oldest entry goes (insertion order; a hit does not reorder, which keeps the
 * hit path to one Map lookup). A forgotten token is simply verified again.
 *
 * The Map is keyed by a number read from the token's nonce (random bytes),
 * and the entry holds the whole value, compared in full on every hit: a Map
 * keyed by the 119-character value itself hashes it on every request (the
 * value is a new string each time), which measured about 200 ns, a tenth of
 * what the whole engine costs a cache hit. Two remembered tokens whose
 * nonces give the same number are rare (with the default 131 072 tokens,
 * about eight such pairs are expected among them: n² / 2³¹) and harmless:
 * the older one is forgotten, and verified again when it is next seen.
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
  /** The exact cookie value these claims belong to, once remembered ('' before). */
  readonly value: string;
  /** When this process last re-issued a cookie to a client presenting this one (seconds from EPOCH_SECONDS; 0: never). */
  #reissuedAt = 0;

  /** Claims of a token sealed under a previous key are a StaleTokenClaims (a field for a flag that is almost always false would cost every token 8 bytes). */
  static of(key: StoreKey, expiresAt: number, version: number, stale: boolean, value = ''): TokenClaims {
    return stale ? new StaleTokenClaims(key, expiresAt, version, value) : new TokenClaims(key, expiresAt, version, value);
  }

  constructor(key: StoreKey, expiresAt: number, version: number, value = '') {
    this.key = key;
    this.version = version;
    this.#expiry = Math.floor(expiresAt / 1000) - EPOCH_SECONDS;
    this.value = value;
  }

  /** Sealed under a previous key: the manager re-issues it under the current one. */
  get stale(): boolean {
    return false;
  }

  /** The cookie's own sealed expiry, in ms (to the second). */
  get expiresAt(): number {
    return (this.#expiry + EPOCH_SECONDS) * 1000;
  }

  /**
   * A fresh cookie was issued to a client that presented this one. A client
   * that keeps presenting it (one that ignores Set-Cookie, or requests
   * already in flight) must not get another on every request: see
   * manager/sliding-expiry.ts.
   */
  noteReissued(now: number): void {
    this.#reissuedAt = Math.floor(now / 1000) - EPOCH_SECONDS;
  }

  /** True when a cookie was re-issued for this one less than `ms` before `now`. */
  reissuedWithin(now: number, ms: number): boolean {
    return this.#reissuedAt !== 0 && now - (this.#reissuedAt + EPOCH_SECONDS) * 1000 < ms;
  }

  /** The same claims for another key string (the tier's own, once the record is known). */
  withKey(key: StoreKey): TokenClaims {
    return TokenClaims.of(key, this.expiresAt, this.version, this.stale, this.value);
  }

  /** The same claims, belonging to this exact cookie value. */
  withValue(value: string): TokenClaims {
    return TokenClaims.of(this.key, this.expiresAt, this.version, this.stale, value);
  }
}

class StaleTokenClaims extends TokenClaims {
  override get stale(): boolean {
    return true;
  }
}

/**
 * Heap bytes of one entry: the 119-character cookie value (136), the claims
 * object (64) and the Map's slot (a small-integer key); the key string is
 * the tier's. Measured by the memory case of `npm run bench` (202 B per
 * token at 100k sessions, Node 20 x64).
 */
export const TOKEN_ENTRY_BYTES = 200;

/** Characters of a token's text that fall in its random nonce (bytes 5..28 of the sealed token: characters 7..37). */
const NONCE_CHARS = [8, 11, 14, 17, 20, 23, 26, 29, 32, 35] as const;

/** A small integer from ten nonce characters (60 random bits folded to 30); any string gives one. */
function slotOf(value: string): number {
  let slot = 0;
  for (const at of NONCE_CHARS) slot = (Math.imul(slot, 31) + value.charCodeAt(at)) | 0;
  return slot & 0x3fffffff;
}

export class VerifiedTokens {
  readonly #map = new Map<number, TokenClaims>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(value: string): TokenClaims | undefined {
    const claims = this.#map.get(slotOf(value));
    return claims !== undefined && claims.value === value ? claims : undefined;
  }

  /** Remembers the claims of a value that authenticated; returns the remembered object (the one later lookups give). */
  remember(value: string, claims: TokenClaims): TokenClaims {
    const slot = slotOf(value);
    const present = this.#map.get(slot);
    if (present !== undefined && present.value === value) return present;
    if (present === undefined && this.#map.size >= this.capacity) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    // A flat copy: the value is a slice of the request's Cookie header, and keeping the slice would keep the whole header.
    const remembered = claims.withValue(Buffer.from(value, 'latin1').toString('latin1'));
    this.#map.set(slot, remembered);
    return remembered;
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}
