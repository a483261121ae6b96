/**
 * The bytes of one filesystem-store record file: a fixed 100-byte header,
 * then the sealed record.
 *
 *   offset size  field
 *        0    4  magic 'RSS\x01' (rockstar-session store)
 *        4    1  format version (1)
 *        5    1  flags: bit 0 = userTag present, bit 1 = tenantTag present
 *        6    2  reserved, zero
 *        8    4  record version (uint32 BE) — equals the version in the file name
 *       12    4  touch sequence (uint32 BE) — equals the touch number in the file name
 *       16    8  expiresAt (float64 BE, ms since the epoch)
 *       24   16  userTag (raw bytes of the 32-hex tag; zero when absent)
 *       40   16  tenantTag (likewise)
 *       56   32  store key (raw bytes): a file copied under another key's name is foreign
 *       88    4  sealed length (uint32 BE)
 *       92    4  CRC-32 of bytes 0..91 and of the sealed bytes
 *       96    4  reserved, zero
 *      100    …  sealed record
 *
 * Anything that does not parse exactly (short, wrong magic, wrong length,
 * CRC mismatch, names disagreeing) is "not a record": the store treats it as
 * missing and quarantines it.
 */
import { crc32 } from 'node:zlib';
import type { RecordWrite, StoreKey, StoredRecord } from './store.ts';

export const HEADER_BYTES = 100;
export const FORMAT_VERSION = 1;
const MAGIC = 0x52535301; // 'RSS\x01'
const CRC_OFFSET = 92;
const USER_PRESENT = 1;
const TENANT_PRESENT = 2;
const TAG = /^[0-9a-f]{32}$/;

/** A user or tenant tag the store can hold: null or 32 lowercase hex characters. */
export function isTag(tag: unknown): tag is string | null {
  return tag === null || (typeof tag === 'string' && TAG.test(tag));
}

export interface RecordHeader {
  readonly version: number;
  readonly touchSeq: number;
  readonly expiresAt: number;
  readonly userTag: string | null;
  readonly tenantTag: string | null;
  readonly sealedLength: number;
}

export interface DecodedRecord extends RecordHeader {
  readonly sealed: Buffer;
}

/** The whole file for one record version. */
export function encodeRecordFile(key: StoreKey, version: number, touchSeq: number, write: RecordWrite): Buffer {
  const file = Buffer.allocUnsafe(HEADER_BYTES + write.sealed.byteLength);
  file.fill(0, 0, HEADER_BYTES);
  file.writeUInt32BE(MAGIC, 0);
  file.writeUInt8(FORMAT_VERSION, 4);
  file.writeUInt8((write.userTag === null ? 0 : USER_PRESENT) | (write.tenantTag === null ? 0 : TENANT_PRESENT), 5);
  file.writeUInt32BE(version, 8);
  file.writeUInt32BE(touchSeq, 12);
  file.writeDoubleBE(write.expiresAt, 16);
  if (write.userTag !== null) file.write(write.userTag, 24, 16, 'hex');
  if (write.tenantTag !== null) file.write(write.tenantTag, 40, 16, 'hex');
  file.write(key, 56, 32, 'hex');
  file.writeUInt32BE(write.sealed.byteLength, 88);
  file.set(write.sealed, HEADER_BYTES);
  file.writeUInt32BE(checksum(file, write.sealed.byteLength), CRC_OFFSET);
  return file;
}

function checksum(file: Buffer, sealedLength: number): number {
  const headerCrc = crc32(file.subarray(0, CRC_OFFSET));
  return crc32(file.subarray(HEADER_BYTES, HEADER_BYTES + sealedLength), headerCrc);
}

/**
 * The header fields, or null when `bytes` does not start with a header of
 * this format for `key`. Reads only the first HEADER_BYTES (cleanup uses it
 * on a header-sized read); the CRC is checked by decodeRecordFile.
 */
export function decodeHeader(key: StoreKey, bytes: Buffer): RecordHeader | null {
  if (bytes.byteLength < HEADER_BYTES) return null;
  if (bytes.readUInt32BE(0) !== MAGIC || bytes.readUInt8(4) !== FORMAT_VERSION) return null;
  const flags = bytes.readUInt8(5);
  if ((flags & ~(USER_PRESENT | TENANT_PRESENT)) !== 0) return null;
  if (bytes.toString('hex', 56, 88) !== key) return null;
  const expiresAt = bytes.readDoubleBE(16);
  if (!Number.isFinite(expiresAt)) return null;
  return {
    version: bytes.readUInt32BE(8),
    touchSeq: bytes.readUInt32BE(12),
    expiresAt,
    userTag: flags & USER_PRESENT ? bytes.toString('hex', 24, 40) : null,
    tenantTag: flags & TENANT_PRESENT ? bytes.toString('hex', 40, 56) : null,
    sealedLength: bytes.readUInt32BE(88),
  };
}

/** The record in a whole file, or null when it is short, long, foreign or fails its checksum. */
export function decodeRecordFile(key: StoreKey, file: Buffer): DecodedRecord | null {
  const header = decodeHeader(key, file);
  if (!header || file.byteLength !== HEADER_BYTES + header.sealedLength) return null;
  if (file.readUInt32BE(CRC_OFFSET) !== checksum(file, header.sealedLength)) return null;
  return { ...header, sealed: file.subarray(HEADER_BYTES) };
}

export function toStoredRecord(decoded: DecodedRecord): StoredRecord {
  return {
    version: decoded.version,
    expiresAt: decoded.expiresAt,
    userTag: decoded.userTag,
    tenantTag: decoded.tenantTag,
    sealed: decoded.sealed,
  };
}
