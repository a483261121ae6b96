/**
 * Session ids, and the plaintext inside a cookie token.
 *
 * An id is 32 random bytes as 43 base64url characters. Anything else offered
 * as an id is refused here, before any store or path sees it.
 * A cookie token seals `id(32) | expiresAt(6) | version(6)` (big-endian
 * integers): the cookie's own expiry in ms, and the record version the
 * request that issued it wrote or read, so any node can tell that its cached
 * copy is older than what this client has seen. Sealed, a token is always
 * TOKEN_BYTES long, so its text form has one fixed length.
 */
import { randomBytes32, SEAL_OVERHEAD } from './crypto/aead.ts';

export const ID_BYTES = 32;
export const ID_CHARS = 43;
const EXPIRY_BYTES = 6;
const VERSION_BYTES = 6;
/** Largest version a token can carry (2^48 - 1): far beyond any session's writes. */
export const MAX_TOKEN_VERSION = 2 ** 48 - 1;
export const TOKEN_PAYLOAD_BYTES = ID_BYTES + EXPIRY_BYTES + VERSION_BYTES;
export const TOKEN_BYTES = TOKEN_PAYLOAD_BYTES + SEAL_OVERHEAD;
export const TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 8) / 6);

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True when `text` is the one canonical base64url spelling of its bytes:
 * the unused low bits of the last character are zero. Without this, four
 * spellings of the last character would decode to the same bytes.
 */
function isCanonicalBase64url(text: string, byteLength: number): boolean {
  const slackBits = (text.length * 6) - byteLength * 8;
  if (slackBits === 0) return true;
  const last = ALPHABET.indexOf(text[text.length - 1]!);
  return (last & ((1 << slackBits) - 1)) === 0;
}

export interface NewId {
  readonly id: string;
  readonly bytes: Buffer;
}

export function newSessionId(): NewId {
  const bytes = randomBytes32();
  return { id: bytes.toString('base64url'), bytes };
}

/** The id's 32 bytes, or null if `id` is not exactly a session id. */
export function parseSessionId(id: unknown): Buffer | null {
  if (typeof id !== 'string' || id.length !== ID_CHARS || !BASE64URL.test(id)) return null;
  if (!isCanonicalBase64url(id, ID_BYTES)) return null;
  return Buffer.from(id, 'base64url');
}

/** Writes `value` (a non-negative safe integer) as `width` big-endian bytes ending just before `end`. */
function writeUIntBE(out: Buffer, value: number, end: number, width: number): void {
  let rest = Math.max(0, Math.floor(value));
  for (let i = end - 1; i >= end - width; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

export function encodeTokenPayload(idBytes: Uint8Array, expiresAt: number, version: number): Buffer {
  const payload = Buffer.allocUnsafe(TOKEN_PAYLOAD_BYTES);
  // Plain stores: at these sizes, cheaper than TypedArray.set and writeUIntBE (this runs on every cookie issued).
  for (let i = 0; i < ID_BYTES; i++) payload[i] = idBytes[i]!;
  writeUIntBE(payload, expiresAt, ID_BYTES + EXPIRY_BYTES, EXPIRY_BYTES);
  writeUIntBE(payload, Math.min(version, MAX_TOKEN_VERSION), TOKEN_PAYLOAD_BYTES, VERSION_BYTES);
  return payload;
}

export interface TokenPayload {
  readonly idBytes: Buffer;
  /** The cookie's own expiry (ms): the token is refused from this instant. */
  readonly expiresAt: number;
  /** The record version this client has seen at least (0: none known). */
  readonly version: number;
}

function smallIntegerIfFits(n: number): number {
  return n <= 0x3fffffff ? n | 0 : n;
}

/** The id bytes, expiry and version inside an opened token (the id's text form is left to the caller: it costs ~150 ns). */
export function decodeTokenPayload(payload: Buffer): TokenPayload | null {
  if (payload.byteLength !== TOKEN_PAYLOAD_BYTES) return null;
  return {
    idBytes: payload.subarray(0, ID_BYTES),
    expiresAt: payload.readUIntBE(ID_BYTES, EXPIRY_BYTES),
    // readUIntBE gives a double; a version that fits is made a small integer, which V8 stores unboxed (16 bytes less per remembered token).
    version: smallIntegerIfFits(payload.readUIntBE(ID_BYTES + EXPIRY_BYTES, VERSION_BYTES)),
  };
}

/**
 * The sealed token's bytes from a cookie value, or null unless the value is
 * exactly the token's canonical base64url text. Node's decoder skips bytes
 * outside the alphabet, so any such byte leaves fewer than TOKEN_BYTES; it
 * also accepts '+' and '/' (standard base64), which are refused here so a
 * token has one spelling only. Cheaper than a regular expression over the value.
 */
export function tokenBytesFromCookieValue(value: string): Buffer | null {
  if (value.length !== TOKEN_CHARS || value.includes('+') || value.includes('/') || !isCanonicalBase64url(value, TOKEN_BYTES)) return null;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.byteLength === TOKEN_BYTES ? bytes : null;
}
