/**
 * Issue 2's measurement: cookie token seal+open through our code path
 * against a raw sodium-native loop on the same 38-byte payload, side by side
 * in one run (tinybench, interleaved, several rounds; medians reported).
 *
 *   node --import tsx scripts/measure-cookie.ts [--rounds 5] [--time 400]
 *
 * `--loop raw|ours N` runs one side N times and exits (for profilers).
 * Instruction counts (callgrind) are not a fair ratio here: the raw loop's
 * per-operation getrandom syscall runs in the kernel, which callgrind does
 * not count, while our nonce pool's userspace CSPRNG is counted.
 */
import { cpus } from 'node:os';
import sodium from 'sodium-native';
import { Bench } from 'tinybench';
import { KeyRing, openBytes, sealBytes } from '../src/crypto/aead.ts';
import { decodeTokenPayload, encodeTokenPayload, newSessionId, tokenBytesFromCookieValue, TOKEN_PAYLOAD_BYTES } from '../src/token.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const rounds = option('rounds', 5);
const time = option('time', 400);

const key = Buffer.alloc(32, 7);
const ring = new KeyRing(key);
const ad = Buffer.from('rockstar-session cookie rockstar_session');
const { bytes: idBytes } = newSessionId();
const expiresAt = Date.now() + 86_400_000;

// Raw: preallocated buffers, a fresh random nonce per seal, no encoding.
const rawKey = sodium.sodium_malloc(32);
rawKey.set(key);
const rawNonce = Buffer.alloc(24);
const rawPlain = encodeTokenPayload(idBytes, expiresAt, 1);
const rawCipher = Buffer.alloc(TOKEN_PAYLOAD_BYTES + 16);
const rawOut = Buffer.alloc(TOKEN_PAYLOAD_BYTES);
function rawSealOpen(): void {
  sodium.randombytes_buf(rawNonce);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(rawCipher, rawPlain, ad, null, rawNonce, rawKey);
  sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(rawOut, null, rawCipher, ad, rawNonce, rawKey);
}

// Ours: exactly what setCookie and getSessionFromCookie do with the token (payload, seal, base64url; parse, open, decode).
function oursSealOpen(): void {
  const value = sealBytes(ring, 'cookie', encodeTokenPayload(idBytes, expiresAt, 1), ad).toString('base64url');
  const sealed = tokenBytesFromCookieValue(value)!;
  const opened = openBytes(ring, 'cookie', sealed, ad)!;
  if (decodeTokenPayload(opened.plaintext)!.expiresAt !== expiresAt) throw new Error('round trip failed');
}

const loopAt = args.indexOf('--loop');
if (loopAt >= 0) {
  const fn = args[loopAt + 1] === 'raw' ? rawSealOpen : oursSealOpen;
  const n = Number(args[loopAt + 2]);
  for (let i = 0; i < n; i++) fn();
  process.exit(0);
}

// The sealing layer alone (no payload framing, no base64 text): how close the AEAD wrapper is to the raw calls.
function sealerOnlySealOpen(): void {
  const opened = openBytes(ring, 'cookie', sealBytes(ring, 'cookie', rawPlain, ad), ad)!;
  if (opened.plaintext.byteLength !== TOKEN_PAYLOAD_BYTES) throw new Error('round trip failed');
}

// Correctness first.
rawSealOpen();
if (!rawOut.equals(rawPlain)) throw new Error('raw loop does not round-trip');
oursSealOpen();

sealerOnlySealOpen();
const medians = { raw: [] as number[], ours: [] as number[], sealer: [] as number[] };
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ time, warmupTime: 100 });
  // Alternate the order each round so neither side always runs warm.
  const cases: Array<[keyof typeof medians, () => void]> = [['raw', rawSealOpen], ['ours', oursSealOpen], ['sealer', sealerOnlySealOpen]];
  if (round % 2) cases.reverse();
  for (const [name, fn] of cases) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) medians[task.name as keyof typeof medians].push(1000 / (task.result as { latency: { mean: number } }).latency.mean);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const raw = median(medians.raw);
const ours = median(medians.ours);
console.log(`Node ${process.version}, ${cpus()[0]?.model} x${cpus().length}, payload ${TOKEN_PAYLOAD_BYTES} B (id + expiry + version), ${rounds} rounds x ${time} ms`);
console.log(`raw sodium-native seal+open: ${Math.round(raw).toLocaleString()} ops/s (per-round medians: ${medians.raw.map((x) => Math.round(x)).join(', ')})`);
console.log(`ours (token seal+open):      ${Math.round(ours).toLocaleString()} ops/s (per-round medians: ${medians.ours.map((x) => Math.round(x)).join(', ')})`);
const sealer = median(medians.sealer);
console.log(`sealing layer only (aead.ts, no framing/base64): ${Math.round(sealer).toLocaleString()} ops/s`);
console.log(`raw / ours = ${(raw / ours).toFixed(2)}x (goal: <= 1.30x); raw / sealing layer = ${(raw / sealer).toFixed(2)}x`);
