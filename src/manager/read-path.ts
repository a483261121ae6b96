/**
 * The read path: from a cookie or an id to a live record, and to a Session.
 *
 * On a cache hit this is the hottest code of the project: a request whose
 * cookie this process has verified before, for a record it holds open and
 * current, costs one Map lookup for the token, one for the record, and the
 * Session object (whose data copy and Dates are made on first use). No
 * base64, no AEAD, no hash, no decode, and no promise: `fromMemory` answers
 * synchronously, and the async methods only wait when something is missing.
 */
import { storeKeyBinary, type KeyEntry } from '../crypto/aead.ts';
import { InvalidCookieError, SessionExpiredError, SessionNotFoundError } from '../errors.ts';
import type { SessionContext } from '../http/context.ts';
import { Session } from '../session.ts';
import { parseSessionId } from '../token.ts';
import type { StoreKey } from '../stores/store.ts';
import { isLive, type KeyedOpenRecord, type OpenRecord } from '../tier/open-record.ts';
import type { TokenClaims } from '../tier/token-map.ts';
import { issueCookie, openCookieValue } from './cookie-tokens.ts';
import type { Engine } from './engine.ts';

/** How one cookie candidate turned out. */
export type Candidate =
  | { readonly kind: 'live'; readonly key: StoreKey; readonly record: OpenRecord; readonly claims: TokenClaims }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'expired-cookie' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'expired' };

const INVALID: Candidate = { kind: 'invalid' };
const EXPIRED_COOKIE: Candidate = { kind: 'expired-cookie' };
const MISSING: Candidate = { kind: 'missing' };
const EXPIRED: Candidate = { kind: 'expired' };

/** Ids whose store key is remembered (about 150 bytes each): the hot sessions an application reads by id. */
const ID_KEYS = 4096;

export class ReadPath {
  readonly #engine: Engine;
  /** id text -> its store key under the current key, for the most recent ids (insertion order; the oldest goes). */
  readonly #idKeys = new Map<string, StoreKey>();
  readonly #homeKey: (idBytes: Buffer, version: number) => Promise<StoreKey>;

  constructor(engine: Engine) {
    this.#engine = engine;
    this.#homeKey = (idBytes, version) => this.#findHomeKey(idBytes, version);
  }

  /**
   * getSessionFromCookie(): each same-named cookie value the browser sent,
   * in order (a sibling subdomain can plant extra ones, and they come
   * first); the first sound token whose session is live wins.
   */
  async fromCookie<Data extends object>(ctx: SessionContext): Promise<Session<Data>> {
    const header = ctx?.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) throw new InvalidCookieError('no session cookie');
    let expiredCookie = false;
    let dead: Candidate['kind'] | null = null;
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const now = this.#engine.now();
      const candidate = this.candidateFromMemory(value, now) ?? (await this.candidate(value, now));
      if (candidate.kind === 'live') return this.#sessionForCookie<Data>(ctx, candidate);
      if (candidate.kind === 'expired-cookie') expiredCookie = true;
      else if (candidate.kind !== 'invalid') dead ??= candidate.kind;
    }
    if (dead === 'missing') throw new SessionNotFoundError();
    if (dead === 'expired') throw new SessionExpiredError();
    throw new InvalidCookieError(expiredCookie ? 'session cookie expired' : 'session cookie is malformed, tampered or sealed with an unknown key');
  }

  /** peekSessionFromCookie(): the same answer, from memory alone, or undefined. */
  peekFromCookie<Data extends object>(ctx: SessionContext, now: number): Session<Data> | undefined {
    // The first line, when the adapter offers it: the whole header is joined from the lines in order and its
    // candidates are tried in order, so what the first line answers, the whole header answers too.
    const firstLine = ctx?.firstCookieLine;
    const triedFirst = typeof firstLine === 'string' && firstLine.length > 0;
    if (triedFirst) {
      const answer = this.#peekIn<Data>(firstLine, now);
      if (answer !== null) return answer;
    }
    const header = ctx?.cookieHeader;
    // A header of one line was just tried whole.
    if (typeof header !== 'string' || header.length === 0 || (triedFirst && header === firstLine)) return undefined;
    return this.#peekIn<Data>(header, now) ?? undefined;
  }

  /** The live session a Cookie header names, from memory: undefined when answering needs more, null when no candidate is live. */
  #peekIn<Data extends object>(header: string, now: number): Session<Data> | undefined | null {
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const candidate = this.candidateFromMemory(value, now);
      if (candidate === undefined) return undefined;
      if (candidate.kind === 'live') return candidate.claims.stale ? undefined : this.sessionOf<Data>(candidate.key, candidate.record, candidate.claims);
    }
    return null;
  }

  async #sessionForCookie<Data extends object>(ctx: SessionContext, live: Extract<Candidate, { kind: 'live' }>): Promise<Session<Data>> {
    const session = this.sessionOf<Data>(live.key, live.record, live.claims);
    // A token sealed with a previous key is re-issued under the current one.
    if (live.claims.stale && typeof ctx.appendSetCookie === 'function') {
      await issueCookie(this.#engine, ctx, parseSessionId(session.id)!, live.claims.expiresAt, Math.max(live.claims.version, live.record.version));
      live.claims.noteReissued(this.#engine.now());
    }
    return session;
  }

  /**
   * A cookie candidate answered from process memory alone, or undefined
   * when answering needs a token check or a store read (then `candidate`).
   */
  candidateFromMemory(value: string, now: number): Candidate | undefined {
    const claims = this.#engine.tokens.get(value);
    if (claims === undefined) return undefined;
    if (claims.expiresAt <= now) return EXPIRED_COOKIE;
    const record = this.#engine.store.peek(claims.key, claims.version);
    if (record === undefined) return undefined;
    return this.#judge(claims, record, now);
  }

  /** One cookie candidate, through the token check and the store as needed. */
  async candidate(value: string, now: number): Promise<Candidate> {
    const tokens = this.#engine.tokens;
    let claims = tokens.get(value);
    const verified = claims === undefined;
    if (claims === undefined) {
      claims = (await openCookieValue(this.#engine, value, this.#homeKey)) ?? undefined;
      if (claims === undefined) return INVALID;
    }
    if (claims.expiresAt <= now) {
      if (verified) tokens.remember(value, claims); // a replayed expired token costs no AEAD either
      return EXPIRED_COOKIE;
    }
    const store = this.#engine.store;
    const peeked = store.peek(claims.key, claims.version);
    const record = peeked !== undefined ? peeked : await store.find(claims.key, claims.version);
    // Remembered with the record's own key string: the map then holds no copy of it.
    if (verified) claims = tokens.remember(value, record === null ? claims : claims.withKey(record.key));
    return this.#judge(claims, record, this.#engine.now());
  }

  #judge(claims: TokenClaims, record: OpenRecord | null, now: number): Candidate {
    if (record === null) return MISSING;
    if (!isLive(record, now)) return EXPIRED;
    return { kind: 'live', key: claims.key, record, claims };
  }

  /**
   * The record of an id given as text (load, get, update, … by id). Its
   * store key is remembered for the most recent ids: parsing the id and
   * hashing it costs a few hundred ns, which a hot session read by id pays on
   * every call otherwise. With several ring keys (a rotation) each call
   * looks, as locate() does.
   */
  async locateId(id: unknown, minVersion = 0): Promise<KeyedOpenRecord | null> {
    if (this.#engine.ring.entries.length !== 1) {
      const idBytes = parseSessionId(id);
      return idBytes ? this.locate(idBytes, minVersion) : null;
    }
    let key = typeof id === 'string' ? this.#idKeys.get(id) : undefined;
    if (key === undefined) {
      const idBytes = parseSessionId(id);
      if (!idBytes) return null;
      key = storeKeyBinary(this.#engine.ring.current, idBytes);
      if (this.#idKeys.size >= ID_KEYS) this.#idKeys.delete(this.#idKeys.keys().next().value!);
      this.#idKeys.set(id as string, key);
    }
    const record = await this.recordAt(key, minVersion);
    return record ? { key, record } : null;
  }

  /** The record of an id: under the current key's store key, or (after a rotation) a previous key's, in ring order. */
  async locate(idBytes: Buffer, minVersion = 0): Promise<KeyedOpenRecord | null> {
    const store = this.#engine.store;
    for (const entry of this.#engine.ring.entries) {
      const key = storeKeyBinary(entry as KeyEntry, idBytes);
      const peeked = store.peek(key, minVersion);
      const record = peeked !== undefined ? peeked : await store.find(key, minVersion);
      if (record) return { key, record };
    }
    return null;
  }

  /** Where a token's session lives when the ring holds several keys: the first store key that holds it, else the current key's. */
  async #findHomeKey(idBytes: Buffer, version: number): Promise<StoreKey> {
    const found = await this.locate(idBytes, version);
    return found?.key ?? storeKeyBinary(this.#engine.ring.current, idBytes);
  }

  /** The live record of an id given as text, or the seed's errors. */
  async liveRecord(id: unknown): Promise<KeyedOpenRecord> {
    const located = await this.locateId(id);
    if (!located) throw new SessionNotFoundError();
    if (!isLive(located.record, this.#engine.now())) throw new SessionExpiredError();
    return located;
  }

  /** The current record under a known key (no hashing), or null. */
  async recordAt(key: StoreKey, minVersion: number): Promise<OpenRecord | null> {
    const store = this.#engine.store;
    const peeked = store.peek(key, minVersion);
    return peeked !== undefined ? peeked : store.find(key, minVersion);
  }

  sessionOf<Data extends object>(key: StoreKey, record: OpenRecord, token: TokenClaims | null): Session<Data> {
    return new Session<Data>(key, record, token);
  }

  /**
   * The record version the ctx's cookie says its client has seen for the
   * session under `key` (0 when no verified value of it names that
   * session): what a write on its behalf must read at least.
   */
  cookieVersionFor(ctx: SessionContext, key: StoreKey): number {
    const header = ctx.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) return 0;
    let version = 0;
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const claims = this.#engine.tokens.get(value);
      if (claims !== undefined && claims.key === key && claims.version > version) version = claims.version;
    }
    return version;
  }

  /** A fresh cookie went to a client: the values of its Cookie header that name this session are marked re-issued (see sliding-expiry.ts). */
  noteReissued(ctx: SessionContext, key: StoreKey): void {
    const header = ctx.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) return;
    const now = this.#engine.now();
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const claims = this.#engine.tokens.get(value);
      if (claims !== undefined && claims.key === key) claims.noteReissued(now);
    }
  }
}
