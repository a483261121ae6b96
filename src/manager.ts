/**
 * SessionManager: the seed's Session API, as a facade over the read path
 * (manager/read-path.ts: tokens and open records, the hot path), the write
 * path (manager/write-path.ts: compare-and-swap, merge, cookie re-issue) and
 * the stores (tier/: the in-process tier, and the sealing boundary to a
 * persistent store). It checks arguments, keeps the lifecycle (the cleanup
 * timer, close) and never sees SQL, paths or sodium.
 */
import { KeyRing, tagHex } from './crypto/aead.ts';
import { createSealer } from './crypto/factory.ts';
import type { Sealer } from './crypto/sealer.ts';
import { validateConfig, zeroConfigKeys, type ResolvedConfig, type SessionConfig } from './config.ts';
import { copyValue } from './data/copy.ts';
import { prepareValue } from './data/storable.ts';
import {
  asStoreError,
  InvalidCookieError,
  SessionClosedError,
  SessionConfigError,
  SessionDataError,
  SessionError,
  SessionExpiredError,
  SessionKeyNotFoundError,
  SessionNotFoundError,
  SessionStoreError,
} from './errors.ts';
import { CookieWriter } from './http/cookie.ts';
import type { SessionContext } from './http/context.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { contextString, cookieSink } from './manager/context.ts';
import { issueCookie } from './manager/cookie-tokens.ts';
import type { Engine } from './manager/engine.ts';
import { ReadPath, type Candidate } from './manager/read-path.ts';
import { WritePath } from './manager/write-path.ts';
import { describeManager, INSPECT, managerSummary, type ManagerSummary } from './printable.ts';
import { Session, sessionExpiresAtMs, sessionState, type SessionState } from './session.ts';
import type { DataKey, DataRecord, DefaultSessionData } from './session-data.ts';
import { createRecordStore } from './stores/factory.ts';
import type { StoreKey } from './stores/store.ts';
import { isLive, type KeyedOpenRecord } from './tier/open-record.ts';
import type { RecordStore } from './tier/record-store.ts';
import { TOKEN_ENTRY_BYTES, VerifiedTokens } from './tier/token-map.ts';
import { parseSessionId } from './token.ts';

const DEFAULT_LIST_LIMIT = 1000;
/** How long close() waits for operations in flight before closing the stores under them (they then fail with ERR_SESSION_CLOSED). */
const CLOSE_DRAIN_MS = 10_000;

/** What the in-process tier holds and has done: records (bytes are the engine's estimate of their heap cost), verified tokens, hits, misses, evictions. */
export interface CacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly tokens: number;
  readonly tokenCapacity: number;
  readonly tokenBytes: number;
}

/** Verified tokens kept per byte of cache budget: one per 512 bytes (64 MiB: 131 072 tokens, about 30 MiB at most). */
function tokenCapacityFor(config: ResolvedConfig): number {
  return Math.max(1024, Math.floor(config.cache.maxBytes / 512));
}

export class SessionManager<Data extends object = DefaultSessionData> {
  readonly config: ResolvedConfig;
  readonly #engine: Engine;
  readonly #read: ReadPath;
  readonly #write: WritePath;
  readonly #ring: KeyRing;
  readonly #sealer: Sealer;
  readonly #store: RecordStore;
  readonly #now: () => number;
  #closed = false;
  #closing: Promise<void> | undefined;
  #cleanupTimer: NodeJS.Timeout | undefined;
  #cleanupRunning = false;
  /** Operations in flight, so close() can let them finish before it closes the stores under them. */
  #inflight = 0;
  #drained: (() => void) | undefined;

  /** @internal Use createSessionManager(). */
  constructor(config: ResolvedConfig, ring: KeyRing, sealer: Sealer, store: RecordStore) {
    this.config = config;
    this.#ring = ring;
    this.#sealer = sealer;
    this.#store = store;
    this.#now = config.now;
    this.#engine = {
      config,
      ring,
      sealer,
      store,
      cookies: new CookieWriter(config),
      cookieAd: Buffer.from(`rockstar-session cookie ${config.cookieName}`),
      tokens: new VerifiedTokens(tokenCapacityFor(config)),
      writers: new KeyedMutex(),
      now: config.now,
    };
    this.#read = new ReadPath(this.#engine);
    this.#write = new WritePath(this.#engine, this.#read);
    this.#scheduleCleanup();
  }

  /** The store in use (for diagnostics and benchmarks). */
  get store(): RecordStore {
    return this.#store;
  }

  /** The in-process tier's contents and counters (for metrics and benchmarks). */
  cacheStats(): CacheStats {
    const tokens = this.#engine.tokens;
    return { ...this.#store.stats, tokens: tokens.size, tokenCapacity: tokens.capacity, tokenBytes: tokens.size * TOKEN_ENTRY_BYTES };
  }

  // Printed (console.log, util.inspect, JSON.stringify, String), a manager shows its store and cookie name, never a secret: printable.ts.
  [INSPECT](): string {
    return describeManager(this.toJSON());
  }

  toJSON(): ManagerSummary {
    return managerSummary(this.config, this.#store, this.#closed);
  }

  toString(): string {
    return describeManager(this.toJSON());
  }

  // ---------------------------------------------------------------- lifecycle

  async create(ctx: SessionContext): Promise<Session<Data>> {
    this.#enter();
    try {
      const now = this.#now();
      const absoluteExpiresAt = now + this.config.absoluteLifetime;
      const expiresAt = Math.min(now + this.config.sessionLifetime, absoluteExpiresAt);
      const fresh = await this.#write.insertFresh(
        {
          createdAt: now,
          updatedAt: now,
          absoluteExpiresAt,
          userId: contextString(ctx?.userId),
          tenantId: contextString(ctx?.tenantId),
          ipAddress: contextString(ctx?.ipAddress),
          userAgent: contextString(ctx?.userAgent),
        },
        {},
        expiresAt,
      );
      return this.#read.sessionOf<Data>(fresh.key, fresh.record, null);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  async load(ctx: SessionContext, id: string): Promise<Session<Data>> {
    this.#enter();
    try {
      const idBytes = parseSessionId(id);
      if (!idBytes) throw new SessionNotFoundError('not a session id');
      const { key, record } = await this.#read.liveRecord(idBytes);
      return this.#read.sessionOf<Data>(key, record, null);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Saves the object's data and fields. If another writer changed the
   * session since this object was read, only the keys this object set or
   * deleted are applied on top of the newer data (same key: this write
   * wins), and the object is updated to what was stored.
   *
   * Re-issues the cookie on ctx (new expiry, the version just written), so
   * the client's cookie slides with its writes and any node can tell its
   * cache is older than this client's last write. Pass a null ctx for a
   * write made outside a request. The data is checked and copied when the
   * call is made: changes to it while the save is in flight belong to the next one.
   */
  async save(ctx: SessionContext | null, session: Session<Data>): Promise<void> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'save', false);
      const state = this.#stateOf(session);
      if (session.id !== state.base.id) throw new SessionDataError('session.id was reassigned; a Session keeps the id it was created with (use regenerate for a new one)');
      this.#assertMetaFields(session);
      await this.#write.save(sink, session as Session<object>);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Removes the session. Destroying a missing session resolves (idempotent).
   * Takes an id, or a Session from this manager (then no lookup is needed).
   */
  async destroy(ctx: SessionContext | null, ref: string | Session<Data>): Promise<void> {
    this.#enter();
    try {
      const key = this.#knownKey(ref) ?? (await this.#locateRef(ref))?.key;
      if (key === undefined) return;
      await this.#engine.writers.run(key, () => this.#store.delete(key));
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Sliding expiry: extends the idle expiry (never past the absolute
   * lifetime) and re-issues the cookie on ctx.
   *
   * Decided from the expiry sealed in the client's cookie (the one the
   * Session came with, or the last one issued through it), not from the
   * record's: a write without a ctx extends the record but not the cookie,
   * and the cookie is what the client presents. Debounced twice over by
   * touchThreshold: nothing at all while the cookie was issued less than
   * touchThreshold ago; no store write (a metadata-only touch) unless it
   * moves the record's expiry by at least touchThreshold.
   *
   * Given a Session just returned by getSessionFromCookie (the usual
   * middleware), nothing is read; given an id, the record is read first, and
   * the ctx's cookie, if it names this session, is the basis.
   */
  async refresh(ctx: SessionContext | null, ref: string | Session<Data>): Promise<void> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'refresh', false);
      const now = this.#now();
      const state = ref instanceof Session ? sessionState(ref) : undefined;
      if (state && sessionExpiresAtMs(ref as Session<Data>) > now) {
        const session = ref as Session<Data>;
        const recordExpiresAt = sessionExpiresAtMs(session);
        const basis = state.cookieExpiresAt ?? recordExpiresAt;
        if (!this.#cookieDue(basis, now)) return; // the hot path: a cookie issued less than touchThreshold ago
        const expiresAt = await this.#slide(sink, state.key, session.id, recordExpiresAt, basis, state.base.absoluteExpiresAt, state.base.version, now);
        if (expiresAt !== null) {
          session.expiresAt = new Date(expiresAt);
          if (sink) state.cookieExpiresAt = expiresAt;
        }
        return;
      }
      const id = typeof ref === 'string' ? ref : ref?.id;
      const idBytes = parseSessionId(id);
      const located = idBytes ? await this.#read.locate(idBytes) : null;
      if (!idBytes || !located) throw new SessionNotFoundError();
      const { key, record } = located;
      if (!isLive(record, now)) throw new SessionExpiredError();
      const cookie = ctx ? await this.#cookieClaimsFor(ctx, key) : null;
      await this.#slide(sink, key, record.id, record.expiresAt, cookie?.expiresAt ?? record.expiresAt, record.absoluteExpiresAt, record.version, now);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Whether refresh(ctx, session) would do anything now: the client's
   * cookie (or, when it is unknown, the record's expiry) was last extended
   * touchThreshold ago or more. Synchronous: middleware on a cache hit skips
   * the refresh call, and its promise, when this is false.
   */
  refreshDue(session: Session<Data>): boolean {
    const state = session instanceof Session ? sessionState(session) : undefined;
    if (!state) return true;
    const now = this.#now();
    const expiresAt = sessionExpiresAtMs(session);
    return expiresAt <= now || this.#cookieDue(state.cookieExpiresAt ?? expiresAt, now);
  }

  /** True when a cookie (or record) last extended to `basis` is older than touchThreshold. */
  #cookieDue(basis: number, now: number): boolean {
    return now - (basis - this.config.sessionLifetime) >= this.config.touchThreshold;
  }

  /** The refresh decision once due: touches the record if that gains touchThreshold, re-issues the cookie. Returns the record's expiry after it, or null. */
  async #slide(sink: SessionContext | null, key: StoreKey, id: string, recordExpiresAt: number, basis: number, absoluteExpiresAt: number, version: number, now: number): Promise<number | null> {
    if (!this.#cookieDue(basis, now)) return null;
    const target = Math.min(now + this.config.sessionLifetime, absoluteExpiresAt);
    if (target <= basis && target <= recordExpiresAt) return null; // at the absolute cap: nothing can move
    let expiresAt = recordExpiresAt;
    if (target > recordExpiresAt && (target - recordExpiresAt >= this.config.touchThreshold || recordExpiresAt <= basis)) {
      const touched = await this.#engine.writers.run(key, () => this.#store.touch(key, target));
      if (!touched) throw new SessionNotFoundError('session was destroyed while this refresh was in flight');
      expiresAt = target;
    }
    if (sink) await issueCookie(this.#engine, sink, parseSessionId(id)!, expiresAt, version);
    return expiresAt;
  }

  /** What ctx's cookie proves about the session under `key`, if one of its values names it. */
  async #cookieClaimsFor(ctx: SessionContext, key: StoreKey): Promise<{ expiresAt: number } | null> {
    const header = ctx.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) return null;
    const now = this.#now();
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const candidate = this.#read.candidateFromMemory(value, now) ?? (await this.#read.candidate(value, now));
      if (candidate.kind === 'live' && candidate.key === key) return candidate.claims;
    }
    return null;
  }

  /**
   * A new id for the same data (defence against session fixation); sets the
   * new cookie on ctx and returns the new Session. The old id is dead. See
   * WritePath.regenerate for how a concurrent destroy or write is handled.
   */
  async regenerate(ctx: SessionContext | null, session: Session<Data>): Promise<Session<Data>> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'regenerate', false);
      const state = this.#stateOf(session);
      if (session.id !== state.base.id) throw new SessionDataError('session.id was reassigned; a Session keeps the id it was created with');
      this.#assertMetaFields(session);
      return await this.#write.regenerate(sink, session);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  // ---------------------------------------------------------------- data access

  /** The value under `key` (a private copy); ERR_SESSION_KEY_NOT_FOUND if the session has no such key. */
  async get<K extends DataKey<Data>>(id: string, key: K): Promise<Data[K]> {
    this.#enter();
    try {
      const { record } = await this.#read.liveRecord(parseSessionId(id));
      if (!Object.prototype.hasOwnProperty.call(record.data, key)) throw new SessionKeyNotFoundError(String(key));
      return copyValue(record.data[key]) as Data[K];
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Atomically sets one key (other keys written concurrently are kept).
   * Given the request's ctx, re-issues its cookie (as every write for a
   * request does: see save).
   */
  async set<K extends DataKey<Data>>(id: string, key: K, value: Data[K], ctx?: SessionContext | null): Promise<void> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'set', false);
      this.#assertDataKey(key);
      // Checked and copied now: later changes to `value` are not written.
      const stored = prepareValue(value, `data[${JSON.stringify(key)}]`, this.config.maxDataBytes).value;
      await this.#write.modify(id, sink, (data) => {
        Object.defineProperty(data, key, { value: stored, enumerable: true, writable: true, configurable: true });
        return { changed: true, result: undefined };
      });
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /** Atomically removes one key. Removing a missing key resolves without writing (and issues no cookie). */
  async delete<K extends DataKey<Data>>(id: string, key: K, ctx?: SessionContext | null): Promise<void> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'delete', false);
      this.#assertDataKey(key);
      await this.#write.modify(id, sink, (data) => {
        if (!Object.prototype.hasOwnProperty.call(data, key)) return { changed: false, result: undefined };
        delete (data as DataRecord)[key];
        return { changed: true, result: undefined };
      });
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /** Removes every key; the session itself stays. */
  async clear(id: string, ctx?: SessionContext | null): Promise<void> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'clear', false);
      await this.#write.modify(id, sink, (data) => {
        const keys = Object.keys(data);
        for (const key of keys) delete data[key];
        return { changed: keys.length > 0, result: undefined };
      });
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Atomic read-modify-write of one key: `fn` gets the current value (a
   * private copy; undefined when absent) and returns the new one (undefined
   * removes the key). `fn` may run more than once when other processes write
   * concurrently, so it must not have side effects. Resolves to the value stored.
   */
  async update<K extends DataKey<Data>>(
    id: string,
    key: K,
    fn: (current: Data[K] | undefined) => Data[K] | undefined | Promise<Data[K] | undefined>,
    ctx?: SessionContext | null,
  ): Promise<Data[K] | undefined> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'update', false);
      this.#assertDataKey(key);
      if (typeof fn !== 'function') throw new SessionDataError('update(id, key, fn): fn must be a function');
      return await this.#write.update<Data[K]>(id, key, fn, sink);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  // ---------------------------------------------------------------- cookies

  /** Sets the encrypted session cookie (id, expiry and the record version, sealed) on ctx. */
  async setCookie(ctx: SessionContext, session: Session<Data>): Promise<void> {
    this.#enter();
    try {
      const sink = cookieSink(ctx, 'setCookie', true)!;
      const idBytes = parseSessionId(session?.id);
      const state = session instanceof Session ? sessionState(session) : undefined;
      if (!idBytes || !state) throw new SessionNotFoundError('setCookie needs a session from this manager');
      const expiresAt = sessionExpiresAtMs(session);
      await issueCookie(this.#engine, sink, idBytes, expiresAt, state.base.version);
      state.cookieExpiresAt = expiresAt;
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /** Tells the browser to drop the session cookie (and the same-named cookies a sibling subdomain could have planted, where it can). */
  async clearCookie(ctx: SessionContext): Promise<void> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'clearCookie', true)!;
    for (const value of this.#engine.cookies.clearingValues(ctx.requestPath, ctx.requestHost)) sink.appendSetCookie(value);
  }

  /**
   * The session named by the request's cookie. ERR_SESSION_INVALID_COOKIE for
   * an absent, malformed, tampered, foreign-key or expired cookie;
   * ERR_SESSION_NOT_FOUND / ERR_SESSION_EXPIRED when the token is sound but
   * the session is gone or past its lifetime.
   *
   * A browser sends every cookie of this name whose Domain and Path match
   * (a sibling subdomain can plant extra ones), so each candidate is tried
   * in order: the first sound token whose session is live wins, and a
   * planted or stale one cannot lock its user out.
   */
  async getSessionFromCookie(ctx: SessionContext): Promise<Session<Data>> {
    this.#enter();
    try {
      const header = ctx?.cookieHeader;
      if (typeof header !== 'string' || header.length === 0) throw new InvalidCookieError('no session cookie');
      let expiredCookie = false;
      let dead: Candidate['kind'] | null = null;
      for (const value of this.#engine.cookies.valuesIn(header)) {
        const now = this.#now();
        const candidate = this.#read.candidateFromMemory(value, now) ?? (await this.#read.candidate(value, now));
        if (candidate.kind === 'live') return await this.#sessionForCookie(ctx, candidate);
        if (candidate.kind === 'expired-cookie') expiredCookie = true;
        else if (candidate.kind !== 'invalid') dead ??= candidate.kind;
      }
      if (dead === 'missing') throw new SessionNotFoundError();
      if (dead === 'expired') throw new SessionExpiredError();
      throw new InvalidCookieError(expiredCookie ? 'session cookie expired' : 'session cookie is malformed, tampered or sealed with an unknown key');
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * The session named by the request's cookie when this process can answer
   * from memory alone: a cookie value it has verified before, naming a live
   * record it holds open and current. No I/O, no crypto, no promise.
   * undefined otherwise (no cookie, one not seen before, a record to read
   * through, a token to re-issue, a dead session): then await
   * getSessionFromCookie(ctx), which answers every case. Adapters and
   * middleware use it to finish a cache hit synchronously.
   */
  peekSessionFromCookie(ctx: SessionContext): Session<Data> | undefined {
    if (this.#closed) return undefined;
    const header = ctx?.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) return undefined;
    const now = this.#now();
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const candidate = this.#read.candidateFromMemory(value, now);
      if (candidate === undefined) return undefined;
      if (candidate.kind === 'live') return candidate.claims.stale ? undefined : this.#read.sessionOf<Data>(candidate.key, candidate.record, candidate.claims.expiresAt);
    }
    return undefined;
  }

  async #sessionForCookie(ctx: SessionContext, live: Extract<Candidate, { kind: 'live' }>): Promise<Session<Data>> {
    const session = this.#read.sessionOf<Data>(live.key, live.record, live.claims.expiresAt);
    // A token sealed with a previous key is re-issued under the current one.
    if (live.claims.stale && typeof ctx.appendSetCookie === 'function') {
      await issueCookie(this.#engine, ctx, parseSessionId(session.id)!, live.claims.expiresAt, Math.max(live.claims.version, live.record.version));
    }
    return session;
  }

  // ---------------------------------------------------------------- validation

  /**
   * True when the session exists and has not expired. Takes an id, or a
   * Session from this manager (its store key is known: no hashing, and on a
   * cache hit no I/O). Never throws for bad ids; store failures still reject.
   */
  async isValid(ref: string | Session<Data>): Promise<boolean> {
    this.#enter();
    try {
      const located = await this.#locateRef(ref);
      return located !== null && isLive(located.record, this.#now());
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /** True when the session is past its lifetime, or missing. */
  async isExpired(ref: string | Session<Data>): Promise<boolean> {
    return !(await this.isValid(ref));
  }

  // ---------------------------------------------------------------- users

  /** Live sessions of one user (at most `limit`, default 1000). */
  async listForUser(userId: string, options: { limit?: number } = {}): Promise<Session<Data>[]> {
    this.#enter();
    try {
      if (typeof userId !== 'string' || userId.length === 0) throw new SessionDataError('listForUser(userId): userId must be a non-empty string');
      const now = this.#now();
      return (await this.#recordsOfUser(userId, options.limit ?? DEFAULT_LIST_LIMIT))
        .filter(({ record }) => isLive(record, now))
        .map(({ key, record }) => this.#read.sessionOf<Data>(key, record, null));
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /** Destroys every session of the user except `except` (an id). Resolves to the number destroyed. ("Log out everywhere".) */
  async destroyAllForUser(userId: string, options: { except?: string } = {}): Promise<number> {
    this.#enter();
    try {
      if (typeof userId !== 'string' || userId.length === 0) throw new SessionDataError('destroyAllForUser(userId): userId must be a non-empty string');
      let destroyed = 0;
      for (;;) {
        const batch = (await this.#recordsOfUser(userId, DEFAULT_LIST_LIMIT)).filter(({ record }) => record.id !== options.except);
        for (const { key } of batch) {
          await this.#engine.writers.run(key, () => this.#store.delete(key));
          destroyed++;
        }
        // Each round deletes at least one session, so this ends; the last round finds none left.
        if (batch.length === 0) return destroyed;
      }
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /** A user's records under every ring key's tag; the tag is a 128-bit hash, so the real id is checked too. */
  async #recordsOfUser(userId: string, limit: number): Promise<KeyedOpenRecord[]> {
    const seen = new Set<StoreKey>();
    const result: KeyedOpenRecord[] = [];
    for (const entry of this.#ring.entries) {
      for (const listed of await this.#store.listByUser(tagHex(entry, userId), limit)) {
        if (seen.has(listed.key) || listed.record.userId !== userId) continue;
        seen.add(listed.key);
        result.push(listed);
      }
    }
    return result;
  }

  // ---------------------------------------------------------------- maintenance

  /** Removes expired sessions from the store; resolves to how many were removed. */
  async cleanupExpired(): Promise<number> {
    this.#enter();
    try {
      return await this.#store.deleteExpired(this.#now());
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#leave();
    }
  }

  /**
   * Stops the cleanup timer, lets operations in flight finish (for at most
   * 10 s), then closes the sealer and the store and zeroes the key material
   * the library holds. Idempotent; every call made after it rejects with
   * ERR_SESSION_CLOSED, and so does an operation still in flight when the
   * stores close under it (never NOT_FOUND or STORE).
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    clearTimeout(this.#cleanupTimer);
    this.#closing = (async () => {
      await this.#drain();
      const results = await Promise.allSettled([this.#sealer.close(), this.#store.close()]);
      this.#engine.tokens.clear();
      // No key material outlives the manager (the pooled sealer zeroes its own copies).
      this.#ring.zero();
      zeroConfigKeys(this.config);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw asStoreError('close', failure.reason);
    })();
    return this.#closing;
  }

  #drain(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_DRAIN_MS);
      timer.unref();
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  // ---------------------------------------------------------------- internals

  #assertOpen(): void {
    if (this.#closed) throw new SessionClosedError();
  }

  #enter(): void {
    if (this.#closed) throw new SessionClosedError();
    this.#inflight++;
  }

  #leave(): void {
    if (--this.#inflight === 0 && this.#drained) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  /** What a failure becomes: once the manager is closing, a store failure is the close's doing, and says so. */
  #failure(error: unknown): unknown {
    if (this.#closed && !(error instanceof SessionClosedError) && (error instanceof SessionStoreError || !(error instanceof SessionError))) {
      return new SessionClosedError('session manager closed while this call was in flight', { cause: error });
    }
    return error;
  }

  #stateOf(session: Session<Data>): SessionState {
    const state = session instanceof Session ? sessionState(session) : undefined;
    if (!state) throw new SessionDataError('expected a Session returned by this manager (create, load or getSessionFromCookie)');
    return state;
  }

  #assertDataKey(key: unknown): asserts key is string {
    if (typeof key !== 'string') throw new SessionDataError(`session data keys must be strings; received ${typeof key}`);
  }

  #assertMetaFields(session: Session<Data>): void {
    for (const name of ['userId', 'tenantId', 'ipAddress', 'userAgent'] as const) {
      const value = session[name];
      if (value !== null && typeof value !== 'string') throw new SessionDataError(`session.${name} must be a string or null`);
    }
  }

  /** The store key of a Session object from this manager, without hashing; undefined for ids and foreign objects. */
  #knownKey(ref: string | Session<Data>): StoreKey | undefined {
    return ref instanceof Session ? sessionState(ref)?.key : undefined;
  }

  /** The record named by an id or by a Session object (read at least as new as the version that object saw). */
  async #locateRef(ref: string | Session<Data>): Promise<KeyedOpenRecord | null> {
    const state = ref instanceof Session ? sessionState(ref) : undefined;
    if (state) {
      const record = await this.#read.recordAt(state.key, state.base.version);
      return record ? { key: state.key, record } : null;
    }
    const idBytes = parseSessionId(typeof ref === 'string' ? ref : ref?.id);
    return idBytes ? this.#read.locate(idBytes) : null;
  }

  #scheduleCleanup(): void {
    if (this.config.cleanupInterval === 0 || this.#closed) return;
    // A timeout chain rather than setInterval: a slow cleanup never overlaps the next one.
    this.#cleanupTimer = setTimeout(() => void this.#runScheduledCleanup(), this.config.cleanupInterval);
    this.#cleanupTimer.unref();
  }

  async #runScheduledCleanup(): Promise<void> {
    if (this.#closed || this.#cleanupRunning) return;
    this.#cleanupRunning = true;
    try {
      await this.cleanupExpired();
    } catch (error) {
      if (!(error instanceof SessionClosedError)) this.config.onError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#cleanupRunning = false;
      this.#scheduleCleanup();
    }
  }
}

/** Validates `config`, opens the store and returns a ready manager. Rejects with ERR_SESSION_CONFIG or ERR_SESSION_STORE. */
export async function createSessionManager<Data extends object = DefaultSessionData>(config: SessionConfig): Promise<SessionManager<Data>> {
  const resolved = validateConfig(config);
  let ring: KeyRing;
  try {
    ring = new KeyRing(resolved.encryptionKey, resolved.previousKeys);
  } catch (error) {
    throw new SessionConfigError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  const sealer = createSealer(resolved, ring);
  let store: RecordStore;
  try {
    store = await createRecordStore(resolved, sealer);
    try {
      await store.open();
    } catch (error) {
      await store.close().catch(() => {});
      throw error instanceof SessionError ? error : asStoreError('open', error);
    }
  } catch (error) {
    await sealer.close().catch(() => {});
    ring.zero();
    throw error;
  }
  return new SessionManager<Data>(resolved, ring, sealer, store);
}
