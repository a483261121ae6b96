/**
 * The layout of one crypto batch: a single buffer that the main thread
 * fills and a worker answers in place, so a batch of any size costs one
 * message each way. The buffer is shared memory for small batches and an
 * ArrayBuffer transferred there and back for large ones (batch-buffers.ts
 * says why).
 *
 *   [slot table: count × SLOT_BYTES][inputs and additional data][outputs]
 *
 * Each slot is SLOT_WORDS Uint32 words (platform byte order: both threads share it). The main thread fills
 * the request words; the worker writes OUT_LEN and STATUS and writes each
 * result into the slot's output area, which is sized for it in advance
 * (seal: input + SEAL_OVERHEAD, open: input − SEAL_OVERHEAD).
 *
 * Shared by the worker and the main thread; imports only the AEAD module.
 */
import { openBytes, sealInto, SEAL_OVERHEAD, type KeyRing, type Purpose } from './aead.ts';

export const SLOT_WORDS = 8;
export const SLOT_BYTES = SLOT_WORDS * 4;

// Word positions inside a slot.
export const W_OP = 0;
export const W_IN_OFF = 1;
export const W_IN_LEN = 2;
export const W_AD_OFF = 3;
export const W_AD_LEN = 4;
export const W_OUT_OFF = 5;
/** Reply: bytes written at OUT_OFF. */
export const W_OUT_LEN = 6;
/** Reply: one of the STATUS_* values. */
export const W_STATUS = 7;

export const OP_SEAL_COOKIE = 0;
export const OP_SEAL_RECORD = 1;
export const OP_OPEN_COOKIE = 2;
export const OP_OPEN_RECORD = 3;
export type OpCode = typeof OP_SEAL_COOKIE | typeof OP_SEAL_RECORD | typeof OP_OPEN_COOKIE | typeof OP_OPEN_RECORD;

export const STATUS_PENDING = 0;
export const STATUS_OK = 1;
/** Opened, but with a previous key: the caller re-seals on its next write. */
export const STATUS_OK_STALE = 2;
/** Did not authenticate (open only): the Sealer contract turns this into null. */
export const STATUS_NOT_OPENED = 3;

export function opCode(kind: 'seal' | 'open', purpose: Purpose): OpCode {
  if (kind === 'seal') return purpose === 'cookie' ? OP_SEAL_COOKIE : OP_SEAL_RECORD;
  return purpose === 'cookie' ? OP_OPEN_COOKIE : OP_OPEN_RECORD;
}

export function isSealOp(op: number): boolean {
  return op === OP_SEAL_COOKIE || op === OP_SEAL_RECORD;
}

/** Room the result of an operation needs in the output area. */
export function outputBytesFor(op: number, inputBytes: number): number {
  return isSealOp(op) ? inputBytes + SEAL_OVERHEAD : Math.max(0, inputBytes - SEAL_OVERHEAD);
}

/** What the main thread posts: the batch buffer and its slot count. */
export interface BatchTask {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly count: number;
}

/**
 * Tagged reply: the worker never throws classes across the thread boundary.
 * The results are in the batch buffer; a transferred ArrayBuffer comes back
 * as `buffer` (a shared one never left).
 */
export type BatchReply = { readonly ok: true; readonly buffer?: ArrayBuffer } | { readonly ok: false; readonly code: string };

/**
 * Runs every slot of a batch in place. Per-slot failures (an open that does
 * not authenticate) are written into the slot; only a malformed batch fails
 * as a whole, and it does so by return value, not by throwing.
 */
export function runBatch(ring: KeyRing, task: BatchTask): BatchReply {
  const { buffer, count } = task;
  if (!(buffer instanceof SharedArrayBuffer || buffer instanceof ArrayBuffer) || !Number.isInteger(count) || count < 0 || count * SLOT_BYTES > buffer.byteLength) {
    return { ok: false, code: 'ERR_BATCH_MALFORMED' };
  }
  const words = new Uint32Array(buffer, 0, count * SLOT_WORDS);
  const bytes = Buffer.from(buffer);
  for (let slot = 0, base = 0; slot < count; slot++, base += SLOT_WORDS) {
    const op = words[base + W_OP]!;
    const inOff = words[base + W_IN_OFF]!;
    const inLen = words[base + W_IN_LEN]!;
    const adOff = words[base + W_AD_OFF]!;
    const adLen = words[base + W_AD_LEN]!;
    const outOff = words[base + W_OUT_OFF]!;
    if (inOff + inLen > bytes.byteLength || adOff + adLen > bytes.byteLength || outOff + outputBytesFor(op, inLen) > bytes.byteLength) {
      return { ok: false, code: 'ERR_BATCH_MALFORMED' };
    }
    // Plain Uint8Array views where a Buffer is not needed: measurably cheaper than Buffer#subarray per operation.
    const additionalData = new Uint8Array(buffer, adOff, adLen);
    const purpose: Purpose = op === OP_SEAL_COOKIE || op === OP_OPEN_COOKIE ? 'cookie' : 'record';
    if (isSealOp(op)) {
      words[base + W_OUT_LEN] = sealInto(ring, purpose, new Uint8Array(buffer, inOff, inLen), additionalData, bytes, outOff);
      words[base + W_STATUS] = STATUS_OK;
      continue;
    }
    const opened = openBytes(ring, purpose, bytes.subarray(inOff, inOff + inLen), additionalData);
    if (opened === null) {
      words[base + W_OUT_LEN] = 0;
      words[base + W_STATUS] = STATUS_NOT_OPENED;
      continue;
    }
    opened.plaintext.copy(bytes, outOff);
    words[base + W_OUT_LEN] = opened.plaintext.byteLength;
    words[base + W_STATUS] = opened.stale ? STATUS_OK_STALE : STATUS_OK;
  }
  return OK;
}

const OK: BatchReply = Object.freeze({ ok: true });
