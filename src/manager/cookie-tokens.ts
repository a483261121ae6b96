/**
 * The session cookie's token: sealing it into a Set-Cookie, and opening a
 * cookie value into what it claims. Verified values are remembered
 * (tier/token-map.ts), so a cookie seen before costs one Map lookup.
 */
import { storeKeyBinary } from '../crypto/aead.ts';
import type { SessionContext } from '../http/context.ts';
import type { StoreKey } from '../stores/store.ts';
import { TokenClaims } from '../tier/token-map.ts';
import { decodeTokenPayload, encodeTokenPayload, tokenBytesFromCookieValue } from '../token.ts';
import type { Engine } from './engine.ts';

/** Seals and appends the cookie for a session: its id, the cookie's expiry, and the record version the client has now seen. */
export async function issueCookie(engine: Engine, ctx: SessionContext, idBytes: Uint8Array, expiresAt: number, version: number): Promise<void> {
  const sealed = await engine.sealer.seal('cookie', encodeTokenPayload(idBytes, expiresAt, version), engine.cookieAd);
  ctx.appendSetCookie(engine.cookies.build(sealed.toString('base64url'), expiresAt, engine.now()));
}

/**
 * What a cookie value proves, or null unless it is a sound token of ours
 * (expired ones included: the caller tells "expired" apart). `homeKey`
 * finds which ring key's store key holds the session (see read-path.ts).
 * The caller remembers the claims (engine.tokens) once it knows the record.
 */
export async function openCookieValue(engine: Engine, value: string, homeKey: (idBytes: Buffer, version: number) => Promise<StoreKey>): Promise<TokenClaims | null> {
  const sealed = tokenBytesFromCookieValue(value);
  if (!sealed) return null;
  const opened = await engine.sealer.open('cookie', sealed, engine.cookieAd);
  const payload = opened && decodeTokenPayload(opened.plaintext);
  if (!payload) return null;
  // One key: its store key. Several (a rotation): the one holding the session, found by looking, which an expired token never gets to cause.
  const single = engine.ring.entries.length === 1 || payload.expiresAt <= engine.now();
  const key = single ? storeKeyBinary(engine.ring.current, payload.idBytes) : await homeKey(payload.idBytes, payload.version);
  return TokenClaims.of(key, payload.expiresAt, payload.version, opened.stale);
}
