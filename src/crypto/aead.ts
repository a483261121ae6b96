/**
 * Synchronous sealing over sodium-native, and the KeyRing of derived subkeys.
 *
 * This module is all a crypto worker imports: it must stay free of anything
 * that knows about sessions, stores or the event loop.
 *
 * Sealed format (cookies and records alike):
 *   version(1) | keyId(4, big-endian) | nonce(24) | XChaCha20-Poly1305(plaintext) incl. 16-byte tag
 * The additional data binds the bytes to their place: the cookie name for a
 * cookie token, the store key for a record.
 */
import { randomFillSync } from 'node:crypto';
import sodium from 'sodium-native';

export const SEALED_VERSION = 1;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const KEY_ID_BYTES = 4;
export const HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES;
export const SEAL_OVERHEAD = HEADER_BYTES + TAG_BYTES;

export type Purpose = 'cookie' | 'record';

/** libsodium KDF context: exactly 8 bytes, fixed forever (changing it changes every subkey). */
const KDF_CONTEXT = Buffer.from('rsession', 'latin1');
const SUBKEY_COOKIE = 1;
const SUBKEY_RECORD = 2;
const SUBKEY_STORE_KEY = 3;
const SUBKEY_USER_TAG = 4;
const SUBKEY_KEY_ID = 5;

export interface KeyEntry {
  /** Public 32-bit fingerprint written into sealed bytes, so open() finds the key without trial decryption. */
  readonly keyId: number;
  readonly cookieKey: Buffer;
  readonly recordKey: Buffer;
  /** Keys the BLAKE2b hash that turns a session id into its store key. */
  readonly storeKeyKey: Buffer;
  /** Keys the BLAKE2b hash that turns a user or tenant id into an index tag. */
  readonly tagKey: Buffer;
}

function deriveSecure(master: Uint8Array, subkeyId: number): Buffer {
  const subkey = sodium.sodium_malloc(32);
  sodium.crypto_kdf_derive_from_key(subkey, subkeyId, KDF_CONTEXT, master);
  return subkey;
}

function deriveKeyEntry(master: Uint8Array): KeyEntry {
  // sodium's KDF wants its master key in a Buffer-like; copy into secure memory first.
  const secureMaster = sodium.sodium_malloc(32);
  secureMaster.set(master);
  const idKey = deriveSecure(secureMaster, SUBKEY_KEY_ID);
  const entry: KeyEntry = {
    keyId: idKey.readUInt32BE(0),
    cookieKey: deriveSecure(secureMaster, SUBKEY_COOKIE),
    recordKey: deriveSecure(secureMaster, SUBKEY_RECORD),
    storeKeyKey: deriveSecure(secureMaster, SUBKEY_STORE_KEY),
    tagKey: deriveSecure(secureMaster, SUBKEY_USER_TAG),
  };
  sodium.sodium_memzero(idKey);
  sodium.sodium_memzero(secureMaster);
  return entry;
}

/**
 * The current key and the previous ones, each expanded into per-purpose
 * subkeys held in sodium secure memory. Index 0 is the current key.
 */
export class KeyRing {
  readonly entries: readonly KeyEntry[];
  readonly #current: KeyEntry;
  readonly #byId = new Map<number, number>();
  #zeroed = false;

  constructor(current: Uint8Array, previous: readonly Uint8Array[] = []) {
    this.entries = [current, ...previous].map(deriveKeyEntry);
    this.#current = this.entries[0]!;
    this.entries.forEach((entry, index) => {
      if (this.#byId.has(entry.keyId)) {
        throw new RangeError(`previousKeys: two keys share the fingerprint ${entry.keyId.toString(16)}; drop the duplicate`);
      }
      this.#byId.set(entry.keyId, index);
    });
  }

  /**
   * The key that seals. Throws once zero() ran: sealing under an all-zero
   * subkey would hand the plaintext to anyone, so a late operation fails
   * instead.
   */
  get current(): KeyEntry {
    if (this.#zeroed) throw new Error('KeyRing: the keys were zeroed (the session manager is closed)');
    return this.#current;
  }

  /** Position of the key with this fingerprint (0 = current), or -1. Always -1 once zeroed: nothing opens. */
  indexOf(keyId: number): number {
    if (this.#zeroed) return -1;
    return this.#byId.get(keyId) ?? -1;
  }

  /** True once zero() ran. */
  get zeroed(): boolean {
    return this.#zeroed;
  }

  /**
   * Overwrites every subkey with zeros (sodium_memzero) and makes the ring
   * unusable: close() calls it, so no key material outlives the manager.
   * Idempotent.
   */
  zero(): void {
    if (this.#zeroed) return;
    this.#zeroed = true;
    for (const entry of this.entries) {
      sodium.sodium_memzero(entry.cookieKey);
      sodium.sodium_memzero(entry.recordKey);
      sodium.sodium_memzero(entry.storeKeyKey);
      sodium.sodium_memzero(entry.tagKey);
    }
  }
}

/**
 * Nonces come from a 16 KiB random buffer refilled when spent. Measured on
 * this machine (Node 20, 2-core EPYC): sodium's randombytes_buf is a
 * getrandom syscall at ~4 ns per byte (~490 ns for one 24-byte nonce, ~100
 * ns per nonce even from a 4 KiB pool), more than a third of a small seal.
 * node:crypto's randomFillSync (OpenSSL's CSPRNG: a DRBG seeded and reseeded
 * from the OS, fork-safe) fills 16 KiB in ~3 µs: ~5 ns per nonce.
 * XChaCha20's 192-bit nonces are safe to draw at random from any CSPRNG.
 */
class NoncePool {
  readonly #pool = Buffer.allocUnsafeSlow(NONCE_BYTES * 682);
  /** One view per nonce, made once: a Buffer view costs ~45 ns to create, a tenth of a small seal's overhead. */
  readonly #views: Buffer[] = Array.from({ length: 682 }, (_, i) => this.#pool.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES));
  #next = this.#views.length;

  /** 24 fresh random bytes (a view into the pool, valid until the pool is refilled 682 calls later). */
  next(): Buffer {
    if (this.#next === this.#views.length) {
      randomFillSync(this.#pool);
      this.#next = 0;
    }
    return this.#views[this.#next++]!;
  }
}

const nonces = new NoncePool();
/** Scratch for the nonce of the open in progress (opens are synchronous, so one per thread suffices). */
const openNonce = Buffer.allocUnsafeSlow(NONCE_BYTES);

function keyFor(entry: KeyEntry, purpose: Purpose): Buffer {
  return purpose === 'cookie' ? entry.cookieKey : entry.recordKey;
}

/** Seals `plaintext` with the ring's current key. Returns a new Buffer of plaintext.length + SEAL_OVERHEAD bytes. */
export function sealBytes(ring: KeyRing, purpose: Purpose, plaintext: Uint8Array, additionalData: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.byteLength + SEAL_OVERHEAD);
  sealInto(ring, purpose, plaintext, additionalData, out, 0);
  return out;
}

/** Seals into `out` at `offset` (used by batch buffers). Writes plaintext.length + SEAL_OVERHEAD bytes. */
export function sealInto(
  ring: KeyRing,
  purpose: Purpose,
  plaintext: Uint8Array,
  additionalData: Uint8Array,
  out: Buffer,
  offset: number,
): number {
  const entry = ring.current;
  const nonce = nonces.next();
  // Plain byte stores: measured ~60 ns cheaper per seal than writeUInt32BE + TypedArray.set at this size.
  const keyId = entry.keyId;
  out[offset] = SEALED_VERSION;
  out[offset + 1] = keyId >>> 24;
  out[offset + 2] = (keyId >>> 16) & 0xff;
  out[offset + 3] = (keyId >>> 8) & 0xff;
  out[offset + 4] = keyId & 0xff;
  for (let i = 0, at = offset + 1 + KEY_ID_BYTES; i < NONCE_BYTES; i++) out[at + i] = nonce[i]!;
  const cipher = out.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + plaintext.byteLength + TAG_BYTES);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(cipher, plaintext, additionalData, null, nonce, keyFor(entry, purpose));
  return plaintext.byteLength + SEAL_OVERHEAD;
}

export interface Opened {
  readonly plaintext: Buffer;
  /** True when an older key opened it: the caller should re-seal on its next write. */
  readonly stale: boolean;
}

/** Opens sealed bytes with whichever ring key they name. Any failure (short, unknown key, tampered) is null, never a throw. */
export function openBytes(ring: KeyRing, purpose: Purpose, sealed: Uint8Array, additionalData: Uint8Array): Opened | null {
  if (sealed.byteLength < SEAL_OVERHEAD || sealed[0] !== SEALED_VERSION) return null;
  const keyId = ((sealed[1]! << 24) | (sealed[2]! << 16) | (sealed[3]! << 8) | sealed[4]!) >>> 0;
  const index = ring.indexOf(keyId);
  if (index < 0) return null;
  const plaintext = Buffer.allocUnsafe(sealed.byteLength - SEAL_OVERHEAD);
  // Copying 24 bytes into a scratch buffer is cheaper than making a view of them.
  for (let i = 0; i < NONCE_BYTES; i++) openNonce[i] = sealed[1 + KEY_ID_BYTES + i]!;
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plaintext,
      null,
      sealed.subarray(HEADER_BYTES),
      additionalData,
      openNonce,
      keyFor(ring.entries[index]!, purpose),
    );
  } catch {
    return null;
  }
  return { plaintext, stale: index !== 0 };
}

/**
 * Keyed BLAKE2b-256 of a session id under the given ring entry's store-key
 * subkey, as the in-process tier keys it: the 32 bytes as a latin1 string
 * (48 bytes of heap, against 80 for its hex spelling, which is what the
 * persistent stores are given: see tier/tier-key.ts).
 */
export function storeKeyBinary(entry: KeyEntry, idBytes: Uint8Array): string {
  const out = Buffer.allocUnsafe(32);
  sodium.crypto_generichash(out, idBytes, entry.storeKeyKey);
  return out.toString('latin1');
}

/** Keyed BLAKE2b-256 of `input` under the given ring entry's store-key subkey, as 64 hex characters. */
export function storeKeyHex(entry: KeyEntry, idBytes: Uint8Array): string {
  const out = Buffer.allocUnsafe(32);
  sodium.crypto_generichash(out, idBytes, entry.storeKeyKey);
  return out.toString('hex');
}

/** Keyed BLAKE2b-128 of a user or tenant id, as 32 hex characters: stores index by it and never see the id. */
export function tagHex(entry: KeyEntry, value: string): string {
  const out = Buffer.allocUnsafe(16);
  sodium.crypto_generichash(out, Buffer.from(value, 'utf8'), entry.tagKey);
  return out.toString('hex');
}

/** 32 bytes from libsodium's CSPRNG. */
export function randomBytes32(): Buffer {
  const out = Buffer.allocUnsafe(32);
  sodium.randombytes_buf(out);
  return out;
}
