/** Sodium XChaCha20-Poly1305 (the engine's AEAD, via src/crypto/aead.ts) by payload size; node:crypto AEADs for contrast. */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { KeyRing, openBytes, sealBytes } from '../../src/crypto/aead.ts';
import { check, runMicro, type MicroCase, type MicroResult } from '../micro.ts';

export const AEAD_SIZES = [48, 256, 4096, 65536] as const;

function label(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
}

/** How many operations one timed call runs: enough to dwarf the timer, few enough to sample often. */
function innerFor(size: number): number {
  return size >= 65536 ? 4 : size >= 4096 ? 32 : 256;
}

function nodeAead(cipher: 'aes-256-gcm' | 'chacha20-poly1305', key: Buffer, size: number): { seal: () => Buffer[]; open: (sealed: Buffer[]) => Buffer } {
  const plaintext = randomBytes(size);
  const ad = Buffer.from('rockstar-session cookie rockstar_session');
  const options = { authTagLength: 16 } as const;
  const seal = (): Buffer[] => {
    const iv = randomBytes(12);
    // Both are AEAD modes with the same call shape; the GCM overload types them alike.
    const c = createCipheriv(cipher as CipherGCMTypes, key, iv, options);
    c.setAAD(ad, { plaintextLength: size });
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return [iv, body, c.getAuthTag()];
  };
  const open = ([iv, body, tag]: Buffer[]): Buffer => {
    const d = createDecipheriv(cipher as CipherGCMTypes, key, iv!, options);
    d.setAAD(ad, { plaintextLength: body!.length });
    d.setAuthTag(tag!);
    return Buffer.concat([d.update(body!), d.final()]);
  };
  const sample = seal();
  check(open(sample).equals(plaintext), `${cipher} round trip at ${size} B`);
  return { seal, open };
}

export async function aeadCases(quick: boolean): Promise<MicroResult[]> {
  const key = randomBytes(32);
  const ring = new KeyRing(key);
  const ad = Buffer.from('rockstar-session cookie rockstar_session');
  const cases: MicroCase[] = [];
  for (const size of AEAD_SIZES) {
    const plaintext = randomBytes(size);
    const sealed = sealBytes(ring, 'cookie', plaintext, ad);
    check(openBytes(ring, 'cookie', sealed, ad)?.plaintext.equals(plaintext), `sodium round trip at ${size} B`);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    check(openBytes(ring, 'cookie', tampered, ad) === null, `sodium refuses tampered bytes at ${size} B`);
    const inner = innerFor(size);
    cases.push({
      name: `sodium seal ${label(size)}`,
      inner,
      fn: () => {
        for (let i = 0; i < inner; i++) sealBytes(ring, 'cookie', plaintext, ad);
      },
    });
    cases.push({
      name: `sodium open ${label(size)}`,
      inner,
      fn: () => {
        for (let i = 0; i < inner; i++) openBytes(ring, 'cookie', sealed, ad);
      },
    });
  }
  for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
    for (const size of AEAD_SIZES) {
      const { seal, open } = nodeAead(cipher, key, size);
      const sample = seal();
      const inner = innerFor(size);
      cases.push({
        name: `node:crypto ${cipher} seal ${label(size)}`,
        inner,
        fn: () => {
          for (let i = 0; i < inner; i++) seal();
        },
      });
      cases.push({
        name: `node:crypto ${cipher} open ${label(size)}`,
        inner,
        fn: () => {
          for (let i = 0; i < inner; i++) open(sample);
        },
      });
    }
  }
  return runMicro('AEAD', cases, quick);
}
