/**
 * SessionManager: the seed's Session API, as a facade over the read path
 * (manager/read-path.ts: tokens and open records, the hot path), the write
 * path (manager/write-path.ts: compare-and-swap, merge, cookie re-issue),
 * sliding expiry (manager/sliding-expiry.ts), a user's sessions
 * (manager/user-sessions.ts) and the lifecycle (manager/lifecycle.ts: calls
 * in flight, close, the cleanup timer). It checks arguments and never sees
 * SQL, paths or sodium; the stores (tier/) seal at their own boundary.
 */
import { KeyRing } from './crypto/aead.ts';
import { createSealer } from './crypto/factory.ts';
import type { Sealer } from './crypto/sealer.ts';
import { validateConfig, type ResolvedConfig, type SessionConfig } from './config.ts';
import { copyValue } from './data/copy.ts';
import { prepareValue } from './data/storable.ts';
import { asStoreError, SessionConfigError, SessionDataError, SessionError, SessionKeyNotFoundError, SessionNotFoundError } from './errors.ts';
import { CookieWriter } from './http/cookie.ts';
import type { SessionContext } from './http/context.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { contextString, cookieSink } from './manager/context.ts';
import { issueCookie } from './manager/cookie-tokens.ts';
import type { Engine } from './manager/engine.ts';
import { Lifecycle } from './manager/lifecycle.ts';
import { ReadPath } from './manager/read-path.ts';
import { SlidingExpiry } from './manager/sliding-expiry.ts';
import { DEFAULT_LIST_LIMIT, UserSessions } from './manager/user-sessions.ts';
import { WritePath } from './manager/write-path.ts';
import { describeManager, INSPECT, managerSummary, type ManagerSummary } from './printable.ts';
import { Session, sessionExpiresAtMs, sessionState, type SessionState } from './session.ts';
import type { DataKey, DataRecord, DefaultSessionData } from './session-data.ts';
import { createRecordStore } from './stores/factory.ts';
import { isLive, type KeyedOpenRecord } from './tier/open-record.ts';
import type { RecordStore } from './tier/record-store.ts';
import type { TierKey } from './tier/tier-key.ts';
import { TOKEN_ENTRY_BYTES, VerifiedTokens } from './tier/token-map.ts';
import { parseSessionId } from './token.ts';

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

/** Verified tokens kept per byte of cache budget: one per 512 bytes (64 MiB: 131 072 tokens, about 24 MiB at most). */
function tokenCapacityFor(config: ResolvedConfig): number {
  return Math.max(1024, Math.floor(config.cache.maxBytes / 512));
}

function assertDataKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new SessionDataError(`session data keys must be strings; received ${typeof key}`);
}

function assertMetaFields(session: Session<object>): void {
  for (const name of ['userId', 'tenantId', 'ipAddress', 'userAgent'] as const) {
    const value = session[name];
    if (value !== null && typeof value !== 'string') throw new SessionDataError(`session.${name} must be a string or null`);
  }
}

/** The state of a Session from this manager, for a write: refuses a foreign object, or one whose id was reassigned. */
function writableState(session: Session<object>): SessionState {
  const state = session instanceof Session ? sessionState(session) : undefined;
  if (!state) throw new SessionDataError('expected a Session returned by this manager (create, load or getSessionFromCookie)');
  if (session.id !== state.base.id) throw new SessionDataError('session.id was reassigned; a Session keeps the id it was created with (regenerate gives a new one)');
  assertMetaFields(session);
  return state;
}

export class SessionManager<Data extends object = DefaultSessionData> {
  readonly config: ResolvedConfig;
  readonly #engine: Engine;
  readonly #read: ReadPath;
  readonly #write: WritePath;
  readonly #sliding: SlidingExpiry;
  readonly #users: UserSessions;
  readonly #life: Lifecycle;

  /** @internal Use createSessionManager(). */
  constructor(config: ResolvedConfig, ring: KeyRing, sealer: Sealer, store: RecordStore) {
    this.config = config;
    const tokens = new VerifiedTokens(tokenCapacityFor(config));
    this.#engine = {
      config,
      ring,
      sealer,
      store,
      cookies: new CookieWriter(config),
      cookieAd: Buffer.from(`rockstar-session cookie ${config.cookieName}`),
      tokens,
      writers: new KeyedMutex(),
      now: config.now,
    };
    this.#read = new ReadPath(this.#engine);
    this.#write = new WritePath(this.#engine, this.#read);
    this.#sliding = new SlidingExpiry(this.#engine, this.#read);
    this.#users = new UserSessions(this.#engine, this.#read);
    this.#life = new Lifecycle({ config, ring, sealer, store, tokens });
    this.#life.scheduleCleanup(() => this.cleanupExpired());
  }

  /** The store in use (for diagnostics and benchmarks). */
  get store(): RecordStore {
    return this.#engine.store;
  }

  /** The in-process tier's contents and counters (for metrics and benchmarks). */
  cacheStats(): CacheStats {
    const tokens = this.#engine.tokens;
    return { ...this.#engine.store.stats, tokens: tokens.size, tokenCapacity: tokens.capacity, tokenBytes: tokens.size * TOKEN_ENTRY_BYTES };
  }

  // Printed (console.log, util.inspect, JSON.stringify, String), a manager shows its store and cookie name, never a secret: printable.ts.
  [INSPECT](): string {
    return describeManager(this.toJSON());
  }

  toJSON(): ManagerSummary {
    return managerSummary(this.config, this.#engine.store, this.#life.closed);
  }

  toString(): string {
    return describeManager(this.toJSON());
  }

  // ---------------------------------------------------------------- lifecycle

  create(ctx: SessionContext): Promise<Session<Data>> {
    return this.#life.run(async () => {
      const now = this.#engine.now();
      const absoluteExpiresAt = now + this.config.absoluteLifetime;
      const expiresAt = Math.min(now + this.config.sessionLifetime, absoluteExpiresAt);
      const meta = {
        createdAt: now,
        updatedAt: now,
        absoluteExpiresAt,
        userId: contextString(ctx?.userId),
        tenantId: contextString(ctx?.tenantId),
        ipAddress: contextString(ctx?.ipAddress),
        userAgent: contextString(ctx?.userAgent),
      };
      const fresh = await this.#write.insertFresh(meta, {}, expiresAt);
      return this.#read.sessionOf<Data>(fresh.key, fresh.record, null);
    });
  }

  load(ctx: SessionContext, id: string): Promise<Session<Data>> {
    return this.#life.run(async () => {
      const { key, record } = await this.#read.liveRecord(id); // not an id at all: not found, before any store is asked
      return this.#read.sessionOf<Data>(key, record, null);
    });
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
  save(ctx: SessionContext | null, session: Session<Data>): Promise<void> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'save', false);
      writableState(session);
      await this.#write.save(sink, session as Session<object>);
    });
  }

  /**
   * Removes the session. Destroying a missing session resolves (idempotent).
   * Takes an id, or a Session from this manager (then no lookup is needed).
   */
  destroy(ctx: SessionContext | null, ref: string | Session<Data>): Promise<void> {
    return this.#life.run(async () => {
      const key = (ref instanceof Session ? sessionState(ref)?.key : undefined) ?? (await this.#locateRef(ref))?.key;
      if (key === undefined) return;
      await this.#engine.writers.run(key, () => this.#engine.store.delete(key));
    });
  }

  /**
   * Sliding expiry: extends the idle expiry (never past the absolute
   * lifetime) and re-issues the cookie on ctx, decided from the expiry
   * sealed in the client's cookie (the one the Session came with, or the
   * last one issued through it), not from the record's: see
   * manager/sliding-expiry.ts. Nothing at all happens while that cookie is
   * younger than touchThreshold.
   *
   * Given a Session just returned by getSessionFromCookie (the usual
   * middleware), nothing is read; given an id, the record is read first, and
   * the ctx's cookie, if it names this session, is the basis.
   */
  refresh(ctx: SessionContext | null, ref: string | Session<Data>): Promise<void> {
    return this.#life.run(() => this.#sliding.refresh(cookieSink(ctx, 'refresh', false), ctx, ref as string | Session<object>));
  }

  /**
   * Whether refresh(ctx, session) would do anything now: the client's
   * cookie (or, when it is unknown, the record's expiry) was last extended
   * touchThreshold ago or more. Synchronous: middleware on a cache hit skips
   * the refresh call, and its promise, when this is false.
   */
  refreshDue(session: Session<Data>): boolean {
    return this.#sliding.due(session as Session<object>, this.#engine.now());
  }

  /**
   * A new id for the same data (defence against session fixation); sets the
   * new cookie on ctx and returns the new Session. The old id is dead. See
   * WritePath.regenerate for how a concurrent destroy or write is handled.
   */
  regenerate(ctx: SessionContext | null, session: Session<Data>): Promise<Session<Data>> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'regenerate', false);
      writableState(session);
      return this.#write.regenerate(sink, session);
    });
  }

  // ---------------------------------------------------------------- data access

  /** The value under `key` (a private copy); ERR_SESSION_KEY_NOT_FOUND if the session has no such key. */
  get<K extends DataKey<Data>>(id: string, key: K): Promise<Data[K]> {
    return this.#life.run(async () => {
      const { record } = await this.#read.liveRecord(id);
      if (!Object.prototype.hasOwnProperty.call(record.data, key)) throw new SessionKeyNotFoundError(String(key));
      return copyValue(record.data[key]) as Data[K];
    });
  }

  /**
   * Atomically sets one key (other keys written concurrently are kept).
   * Given the request's ctx, re-issues its cookie (as every write for a
   * request does: see save).
   */
  set<K extends DataKey<Data>>(id: string, key: K, value: Data[K], ctx?: SessionContext | null): Promise<void> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'set', false);
      assertDataKey(key);
      // Checked and copied now: later changes to `value` are not written.
      const stored = prepareValue(value, `data[${JSON.stringify(key)}]`, this.config.maxDataBytes).value;
      await this.#write.modify(id, sink, (data) => {
        Object.defineProperty(data, key, { value: stored, enumerable: true, writable: true, configurable: true });
        return { changed: true, result: undefined };
      });
    });
  }

  /** Atomically removes one key. Removing a missing key resolves without writing (and issues no cookie). */
  delete<K extends DataKey<Data>>(id: string, key: K, ctx?: SessionContext | null): Promise<void> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'delete', false);
      assertDataKey(key);
      await this.#write.modify(id, sink, (data) => {
        if (!Object.prototype.hasOwnProperty.call(data, key)) return { changed: false, result: undefined };
        delete (data as DataRecord)[key];
        return { changed: true, result: undefined };
      });
    });
  }

  /** Removes every key; the session itself stays. */
  clear(id: string, ctx?: SessionContext | null): Promise<void> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'clear', false);
      await this.#write.modify(id, sink, (data) => {
        const keys = Object.keys(data);
        for (const key of keys) delete data[key];
        return { changed: keys.length > 0, result: undefined };
      });
    });
  }

  /**
   * Atomic read-modify-write of one key: `fn` gets the current value (a
   * private copy; undefined when absent) and returns the new one (undefined
   * removes the key). `fn` may run more than once when other processes write
   * concurrently, so it must not have side effects. Resolves to the value stored.
   */
  update<K extends DataKey<Data>>(
    id: string,
    key: K,
    fn: (current: Data[K] | undefined) => Data[K] | undefined | Promise<Data[K] | undefined>,
    ctx?: SessionContext | null,
  ): Promise<Data[K] | undefined> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'update', false);
      assertDataKey(key);
      if (typeof fn !== 'function') throw new SessionDataError('update(id, key, fn): fn must be a function');
      return this.#write.update<Data[K]>(id, key, fn, sink);
    });
  }

  // ---------------------------------------------------------------- cookies

  /** Sets the encrypted session cookie (id, expiry and the record version, sealed) on ctx. */
  setCookie(ctx: SessionContext, session: Session<Data>): Promise<void> {
    return this.#life.run(async () => {
      const sink = cookieSink(ctx, 'setCookie', true)!;
      const state = writableState(session);
      const expiresAt = sessionExpiresAtMs(session);
      await issueCookie(this.#engine, sink, parseSessionId(state.base.id)!, expiresAt, Math.max(state.base.version, state.token?.version ?? 0));
      state.cookieExpiresAt = expiresAt;
    });
  }

  /** Tells the browser to drop the session cookie (and the same-named cookies a sibling subdomain could have planted, where it can). */
  async clearCookie(ctx: SessionContext): Promise<void> {
    this.#life.assertOpen();
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
    // Written out rather than through #life.run: this is the hot path of every middleware, and run() costs a closure.
    this.#life.enter();
    try {
      return await this.#read.fromCookie<Data>(ctx);
    } catch (error) {
      throw this.#life.failure(error);
    } finally {
      this.#life.leave();
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
   *
   * `{ refresh: true }`: also undefined when refresh(ctx, session) would have
   * something to do (refreshDue), so that a middleware doing the seed's
   * getSessionFromCookie, isValid and refresh can take this answer as all
   * three, in one look at the clock.
   */
  peekSessionFromCookie(ctx: SessionContext, options?: { readonly refresh?: boolean }): Session<Data> | undefined {
    if (this.#life.closed) return undefined;
    const now = this.#engine.now();
    const session = this.#read.peekFromCookie<Data>(ctx, now);
    if (session === undefined || options?.refresh !== true) return session;
    return this.#sliding.due(session as Session<object>, now) ? undefined : session;
  }

  // ---------------------------------------------------------------- validation

  /**
   * True when the session exists and has not expired. Takes an id, or a
   * Session from this manager (its store key is known: no hashing, and on a
   * cache hit no I/O). Never throws for bad ids; store failures still reject.
   */
  isValid(ref: string | Session<Data>): Promise<boolean> {
    return this.#life.run(async () => {
      const located = await this.#locateRef(ref);
      return located !== null && isLive(located.record, this.#engine.now());
    });
  }

  /** True when the session is past its lifetime, or missing. */
  async isExpired(ref: string | Session<Data>): Promise<boolean> {
    return !(await this.isValid(ref));
  }

  // ---------------------------------------------------------------- users

  /** Live sessions of one user (at most `limit`, default 1000). */
  listForUser(userId: string, options: { limit?: number } = {}): Promise<Session<Data>[]> {
    return this.#life.run(async () => {
      const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
      if (!Number.isSafeInteger(limit) || limit <= 0) throw new SessionDataError(`listForUser(userId, { limit }): limit must be a positive integer; received ${String(limit)}`);
      return this.#users.list<Data>(userId, limit);
    });
  }

  /** Destroys every session of the user except `except` (an id). Resolves to the number destroyed. ("Log out everywhere".) */
  destroyAllForUser(userId: string, options: { except?: string } = {}): Promise<number> {
    return this.#life.run(() => this.#users.destroyAll(userId, options.except));
  }

  // ---------------------------------------------------------------- maintenance

  /** Removes expired sessions from the store; resolves to how many were removed. */
  cleanupExpired(): Promise<number> {
    return this.#life.run(() => this.#engine.store.deleteExpired(this.#engine.now()));
  }

  /**
   * Stops the cleanup timer, lets operations in flight finish (for at most
   * 10 s), then closes the sealer and the store and zeroes the key material
   * the library holds. Idempotent; every call made after it rejects with
   * ERR_SESSION_CLOSED, and so does an operation still in flight when the
   * stores close under it (never NOT_FOUND or STORE).
   */
  close(): Promise<void> {
    return this.#life.close();
  }

  // ---------------------------------------------------------------- internals

  /** The record named by an id or by a Session object (read at least as new as the version that object saw). */
  async #locateRef(ref: string | Session<Data>): Promise<KeyedOpenRecord | null> {
    const state = ref instanceof Session ? sessionState(ref) : undefined;
    if (state) {
      const record = await this.#read.recordAt(state.key as TierKey, state.base.version);
      return record ? { key: state.key, record } : null;
    }
    return this.#read.locateId(typeof ref === 'string' ? ref : ref?.id);
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
