/**
 * The in-process tier keys records by the store key's 32 bytes in a latin1
 * string (crypto/aead.ts, storeKeyBinary): one per cached session, shared
 * with the verified-token map, so its size counts. The persistent stores
 * keep the contract of stores/store.ts: 64 lowercase hex characters, which
 * is also what a sealed record is bound to (its additional data). This is
 * the one place the two spellings meet.
 */
import type { StoreKey } from '../stores/store.ts';

/** 32 bytes in a latin1 string: a store key as the tier and the manager hold it. */
export type TierKey = string;

export function hexOf(key: TierKey): StoreKey {
  return Buffer.from(key, 'latin1').toString('hex');
}

export function tierKeyOf(hex: StoreKey): TierKey {
  return Buffer.from(hex, 'hex').toString('latin1');
}
