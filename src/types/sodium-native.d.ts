// The subset of sodium-native (which ships no types) that this project calls.
declare module 'sodium-native' {
  type Bytes = Uint8Array;
  const sodium: {
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES: number;
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number;
    crypto_aead_xchacha20poly1305_ietf_ABYTES: number;
    crypto_kdf_KEYBYTES: number;
    crypto_kdf_CONTEXTBYTES: number;
    crypto_generichash_KEYBYTES: number;
    /** Returns the number of bytes written to `ciphertext`. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(
      ciphertext: Bytes, message: Bytes, additionalData: Bytes | null, nsec: null, nonce: Bytes, key: Bytes,
    ): number;
    /** Throws when the ciphertext does not authenticate; returns the bytes written. */
    crypto_aead_xchacha20poly1305_ietf_decrypt(
      message: Bytes, nsec: null, ciphertext: Bytes, additionalData: Bytes | null, nonce: Bytes, key: Bytes,
    ): number;
    crypto_kdf_derive_from_key(subkey: Bytes, subkeyId: number, context: Bytes, key: Bytes): void;
    crypto_generichash(output: Bytes, input: Bytes, key?: Bytes): void;
    randombytes_buf(buffer: Bytes): void;
    sodium_malloc(size: number): Buffer & { secure: boolean };
    sodium_memzero(buffer: Bytes): void;
    sodium_mprotect_readonly(buffer: Bytes): void;
  };
  export default sodium;
}
