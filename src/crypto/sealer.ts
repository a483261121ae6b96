/**
 * The Sealer seam: the manager seals and opens through it and never calls
 * sodium itself, so the crypto can run inline or in a worker pool.
 */
import { KeyRing, openBytes, sealBytes, type Opened, type Purpose } from './aead.ts';
import { SessionClosedError } from '../errors.ts';

export interface Sealer {
  /** Seals with the current key; `additionalData` binds the result to its place (cookie name or store key). */
  seal(purpose: Purpose, plaintext: Uint8Array, additionalData: Uint8Array): Promise<Buffer>;
  /** Opens with any ring key; null for anything that does not authenticate. Never rejects for bad input. */
  open(purpose: Purpose, sealed: Uint8Array, additionalData: Uint8Array): Promise<Opened | null>;
  /** Idempotent. Later calls reject with ERR_SESSION_CLOSED. */
  close(): Promise<void>;
}

/** Runs every operation on the calling thread: about a microsecond each, no queue to bound. */
export class InlineSealer implements Sealer {
  readonly #ring: KeyRing;
  #closed = false;

  constructor(ring: KeyRing) {
    this.#ring = ring;
  }

  async seal(purpose: Purpose, plaintext: Uint8Array, additionalData: Uint8Array): Promise<Buffer> {
    if (this.#closed) throw new SessionClosedError();
    return sealBytes(this.#ring, purpose, plaintext, additionalData);
  }

  async open(purpose: Purpose, sealed: Uint8Array, additionalData: Uint8Array): Promise<Opened | null> {
    if (this.#closed) throw new SessionClosedError();
    return openBytes(this.#ring, purpose, sealed, additionalData);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
