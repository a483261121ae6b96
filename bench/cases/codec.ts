/**
 * Codec: what it costs to turn a session into cookie text and back, and a
 * record into sealed bytes and back, against the peers that do the same job.
 */
import sodium from 'sodium-native';
import Fastify from 'fastify';
import fastifySecureSession from '@fastify/secure-session';
import { sealData, unsealData } from 'iron-session';
import { KeyRing, openBytes, sealBytes } from '../../src/crypto/aead.ts';
import { decodeRecord, encodeRecord, type RecordFields } from '../../src/codec.ts';
import { decodeTokenPayload, encodeTokenPayload, newSessionId, tokenBytesFromCookieValue, TOKEN_PAYLOAD_BYTES } from '../../src/token.ts';
import { BENCH_KEY, benchContext, benchManager, cookieHeaderFrom, loginSessionData } from '../lib/engine.ts';
import { interleavedThroughput, type ThroughputContender } from '../lib/measure.ts';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';

/** The secretbox part of sodium-native, which the project's own sodium typings leave out (the library never uses it). */
interface Secretbox {
  readonly crypto_secretbox_KEYBYTES: number;
  readonly crypto_secretbox_NONCEBYTES: number;
  readonly crypto_secretbox_MACBYTES: number;
  crypto_secretbox_easy(out: Buffer, message: Buffer, nonce: Buffer, key: Buffer): void;
  crypto_secretbox_open_easy(out: Buffer, boxed: Buffer, nonce: Buffer, key: Buffer): boolean;
}
const secretbox = sodium as unknown as Secretbox;

function check(condition: unknown, what: string): void {
  if (!condition) throw new Error(`codec bench: correctness check failed before timing: ${what}`);
}

/** A realistic session: the seed example's login fields plus a small cart and preferences (10 keys). */
export function realisticSessionData(): Record<string, unknown> {
  return {
    ...loginSessionData('alice'),
    tenant: 'acme',
    theme: 'dark',
    locale: 'en-GB',
    cart: [{ productId: 'sku-1001', qty: 2 }, { productId: 'sku-2002', qty: 1 }],
    csrf: 'q0XzW0m3yYw1c9q2b8h6fA',
    visits: 17,
  };
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('codec');
  const rounds = options.quick ? 3 : 5;
  const timeMs = options.quick ? 200 : 1000;
  const ring = new KeyRing(BENCH_KEY);
  const cookieAd = Buffer.from('rockstar-session cookie rockstar_session');

  // ---- cookie tokens: the same information (session id + expiry) in every contender's cookie
  const { id, bytes: idBytes } = newSessionId();
  const expiresAt = Date.now() + 86_400_000;
  const peerCookiePayload = { sid: id, exp: expiresAt };

  const tokenRoundTrip = (): unknown => {
    const text = sealBytes(ring, 'cookie', encodeTokenPayload(idBytes, expiresAt, 1), cookieAd).toString('base64url');
    const opened = openBytes(ring, 'cookie', tokenBytesFromCookieValue(text)!, cookieAd);
    return decodeTokenPayload(opened!.plaintext);
  };
  check((tokenRoundTrip() as { idBytes: Buffer }).idBytes.equals(idBytes), 'our token round trip');

  // The same without the cookie text (base64url out, shape check and decode in): what issue 2's 1.3× goal is about.
  const aeadRoundTrip = (): unknown => {
    const sealed = sealBytes(ring, 'cookie', encodeTokenPayload(idBytes, expiresAt, 1), cookieAd);
    return decodeTokenPayload(openBytes(ring, 'cookie', sealed, cookieAd)!.plaintext);
  };
  check((aeadRoundTrip() as { idBytes: Buffer }).idBytes.equals(idBytes), 'our aead token round trip');

  // The floor: a bare sodium-native seal + open of the same 38 bytes, buffers preallocated, fresh nonce per seal.
  const rawKey = sodium.sodium_malloc(32);
  sodium.randombytes_buf(rawKey);
  const rawPlain = encodeTokenPayload(idBytes, expiresAt, 1);
  const rawNonce = Buffer.alloc(24);
  const rawCipher = Buffer.alloc(TOKEN_PAYLOAD_BYTES + 16);
  const rawOpened = Buffer.alloc(TOKEN_PAYLOAD_BYTES);
  const rawRoundTrip = (): void => {
    sodium.randombytes_buf(rawNonce);
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(rawCipher, rawPlain, cookieAd, null, rawNonce, rawKey);
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(rawOpened, null, rawCipher, cookieAd, rawNonce, rawKey);
  };
  rawRoundTrip();
  check(rawOpened.equals(rawPlain), 'raw sodium round trip');
  // The cipher alone: the same loop with the nonce left as it is. Never safe to do for real; it is here as the
  // floor under every contender, because randombytes_buf (a syscall per call) dominates the loop above.
  const cipherOnly = (): void => {
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(rawCipher, rawPlain, cookieAd, null, rawNonce, rawKey);
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(rawOpened, null, rawCipher, cookieAd, rawNonce, rawKey);
  };

  // The whole manager path: setCookie, then getSessionFromCookie (which also loads the record: a cache hit).
  const manager = await benchManager();
  const session = await manager.create(benchContext());
  session.data = loginSessionData('alice');
  await manager.save(benchContext(), session);
  const managerCtx = benchContext();
  const readCtx = benchContext();
  const managerRoundTrip = async (): Promise<unknown> => {
    await manager.setCookie(managerCtx, session);
    readCtx.cookieHeader = cookieHeaderFrom(managerCtx.lastSetCookie!);
    return manager.getSessionFromCookie(readCtx);
  };
  check(((await managerRoundTrip()) as { id: string }).id === session.id, 'manager cookie round trip');

  const fastify = Fastify({ logger: false });
  await fastify.register(fastifySecureSession, { key: Buffer.from(sodium.sodium_malloc(32).fill(7)), cookie: { path: '/' } });
  await fastify.ready();
  const fastifyRoundTrip = (): unknown => {
    const s = fastify.createSecureSession(peerCookiePayload);
    const text = fastify.encodeSecureSession(s);
    return fastify.decodeSecureSession(text);
  };
  check((fastifyRoundTrip() as { get(k: string): unknown }).get('sid') === id, '@fastify/secure-session round trip');

  const ironPassword = 'a-password-of-at-least-32-characters-for-iron';
  const ironRoundTrip = async (): Promise<unknown> => unsealData(await sealData(peerCookiePayload, { password: ironPassword }), { password: ironPassword });
  check(((await ironRoundTrip()) as { sid: string }).sid === id, 'iron-session round trip');

  const cookieContenders: ThroughputContender[] = [
    { id: 'codec.cookie.cipher-only', kind: 'sync', op: cipherOnly },
    { id: 'codec.cookie.raw', kind: 'sync', op: rawRoundTrip },
    { id: 'codec.cookie.aead', kind: 'sync', op: aeadRoundTrip },
    { id: 'codec.cookie.token', kind: 'sync', op: tokenRoundTrip },
    { id: 'codec.cookie.manager', kind: 'async', op: managerRoundTrip },
    { id: 'codec.cookie.fastify-secure-session', kind: 'sync', op: fastifyRoundTrip },
    { id: 'codec.cookie.iron-session', kind: 'async', op: ironRoundTrip },
  ];

  // ---- records at rest: msgpack + XChaCha20-Poly1305 against JSON + secretbox
  const storeKeyAd = Buffer.from('a'.repeat(64), 'latin1');
  const fields: RecordFields = {
    id,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    absoluteExpiresAt: expiresAt,
    userId: 'u-alice',
    tenantId: 'acme',
    ipAddress: '127.0.0.1',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) rockstar-session-bench',
    data: realisticSessionData(),
  };
  const ourRecordRoundTrip = (): unknown => {
    const sealed = sealBytes(ring, 'record', encodeRecord(fields, false), storeKeyAd);
    return decodeRecord(openBytes(ring, 'record', sealed, storeKeyAd)!.plaintext);
  };
  check((ourRecordRoundTrip() as RecordFields).data.username === 'alice', 'our record round trip');
  const recordPlainBytes = encodeRecord(fields, false).byteLength;

  const boxKey = sodium.sodium_malloc(secretbox.crypto_secretbox_KEYBYTES);
  sodium.randombytes_buf(boxKey);
  const jsonRecord = { ...fields };
  const jsonBytes = Buffer.byteLength(JSON.stringify(jsonRecord));
  const secretboxRoundTrip = (): unknown => {
    const plain = Buffer.from(JSON.stringify(jsonRecord));
    const nonce = Buffer.allocUnsafe(secretbox.crypto_secretbox_NONCEBYTES);
    sodium.randombytes_buf(nonce);
    const boxed = Buffer.allocUnsafe(plain.byteLength + secretbox.crypto_secretbox_MACBYTES);
    secretbox.crypto_secretbox_easy(boxed, plain, nonce, boxKey);
    const opened = Buffer.allocUnsafe(plain.byteLength);
    if (!secretbox.crypto_secretbox_open_easy(opened, boxed, nonce, boxKey)) throw new Error('secretbox did not open');
    return JSON.parse(opened.toString());
  };
  check((secretboxRoundTrip() as { data: { username: string } }).data.username === 'alice', 'JSON + secretbox round trip');

  const recordContenders: ThroughputContender[] = [
    { id: 'codec.record.ours', kind: 'sync', op: ourRecordRoundTrip },
    { id: 'codec.record.json-secretbox', kind: 'sync', op: secretboxRoundTrip },
  ];

  rec.conditions['cookie payload'] = `session id (32 B) + expiry + version: ${TOKEN_PAYLOAD_BYTES} B plaintext for ours and the raw loop; {sid, exp} object for the peers`;
  rec.conditions['record payload'] = `10-key session plus id/user/tenant/ip/UA fields: ${recordPlainBytes} B msgpack, ${jsonBytes} B JSON`;
  rec.conditions['timing'] = `${rounds} interleaved runs of ${timeMs} ms per contender, after a warm-up; one operation = seal + open (round trip)`;

  const progress = (idOf: string, round: number, value: number): void => options.progress(`codec ${idOf} run ${round}/${rounds}: ${Math.round(value).toLocaleString('en-US')} ops/s`);
  const cookieResults = await interleavedThroughput(cookieContenders, { rounds, timeMs, warmupMs: timeMs / 2, onRun: progress });
  const recordResults = await interleavedThroughput(recordContenders, { rounds, timeMs, warmupMs: timeMs / 2, onRun: progress });

  const labels: Record<string, [string, boolean]> = {
    'codec.cookie.cipher-only': ['sodium-native encrypt + decrypt, nonce reused (the cipher alone; unsafe, a floor only)', false],
    'codec.cookie.raw': ['raw sodium-native loop: fresh nonce (randombytes_buf) + encrypt + decrypt, buffers preallocated', false],
    'codec.cookie.aead': ['ours: sealBytes + openBytes of the token payload (aead.ts + token.ts)', true],
    'codec.cookie.token': ['ours: the same plus cookie text (base64url out, shape check + decode in)', true],
    'codec.cookie.manager': ['ours: manager setCookie + getSessionFromCookie (incl. cache-store load)', true],
    'codec.cookie.fastify-secure-session': ['@fastify/secure-session encode + decode', false],
    'codec.cookie.iron-session': ['iron-session sealData + unsealData', false],
    'codec.record.ours': ['ours: encodeRecord (msgpackr) + sealBytes, openBytes + decodeRecord', true],
    'codec.record.json-secretbox': ['JSON + sodium-native crypto_secretbox_easy / open_easy', false],
  };
  for (const [resultId, values] of [...cookieResults, ...recordResults]) {
    const [label, ours] = labels[resultId]!;
    rec.measurements.push({
      id: resultId,
      label,
      group: resultId.startsWith('codec.cookie') ? 'Cookie token round trip' : 'Record round trip',
      ours,
      unit: 'ops/s',
      values,
      higherIsBetter: true,
    });
  }
  await manager.close();
  await fastify.close();
  return rec.result();
}
