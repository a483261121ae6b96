/**
 * SessionManager: the one place that sequences codec -> sealer -> store.
 * It never sees SQL or paths (stores) and never calls sodium (the Sealer).
 */
import { KeyRing, storeKeyHex, tagHex, type KeyEntry } from './crypto/aead.ts';
import { createSealer } from './crypto/factory.ts';
import type { Sealer } from './crypto/sealer.ts';
import { assertStorable, decodeRecord, encodeRecord, type RecordFields } from './codec.ts';
import { validateConfig, zeroConfigKeys, type ResolvedConfig, type SessionConfig } from './config.ts';
import {
  asStoreError,
  SessionClosedError,
  SessionConfigError,
  SessionConflictError,
  SessionDataError,
  SessionError,
  SessionExpiredError,
  SessionKeyNotFoundError,
  SessionNotFoundError,
  SessionStoreError,
  SessionContextError,
  InvalidCookieError,
} from './errors.ts';
import { CookieWriter } from './http/cookie.ts';
import type { SessionContext } from './http/context.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { describeManager, INSPECT, managerSummary, type ManagerSummary } from './printable.ts';
import { applyChanges, changesOf, Session, sessionState, type SessionState } from './session.ts';
import type { DataKey, DataRecord, DefaultSessionData } from './session-data.ts';
import { createStore } from './stores/factory.ts';
import type { RecordWrite, SessionStore, StoredRecord, StoreKey } from './stores/store.ts';
import {
  decodeTokenPayload,
  encodeTokenPayload,
  newSessionId,
  parseSessionId,
  tokenBytesFromCookieValue,
  type TokenPayload,
} from './token.ts';

/** CAS attempts before ERR_SESSION_CONFLICT. In-process writers are serialized, so only other processes can use these up. */
const MAX_WRITE_ATTEMPTS = 32;
/** Longest strings kept from a request context: a client must not be able to grow records without bound. */
const MAX_CONTEXT_STRING = 512;
const DEFAULT_LIST_LIMIT = 1000;

interface Located {
  readonly key: StoreKey;
  readonly record: StoredRecord;
}

interface Opened {
  readonly located: Located;
  readonly fields: RecordFields;
  readonly plaintext: Buffer;
}

/**
 * Where a call's Set-Cookie goes. `required`: the call exists to set a
 * cookie (setCookie, clearCookie). Otherwise a null or undefined ctx means a
 * write made outside any request: nothing is issued. A ctx that cannot take
 * a cookie is the caller's bug, reported before anything is written.
 */
function cookieSink(ctx: SessionContext | null | undefined, call: string, required: boolean): SessionContext | null {
  if (ctx === undefined || ctx === null) {
    if (required) throw new SessionContextError(`${call}: ctx must be a SessionContext with appendSetCookie; received ${ctx}`);
    return null;
  }
  if (typeof ctx !== 'object' || typeof ctx.appendSetCookie !== 'function') {
    throw new SessionContextError(`${call}: ctx.appendSetCookie must be a function (a SessionContext from an adapter, or { cookieHeader, appendSetCookie(value) {…} })`);
  }
  return ctx;
}

function contextString(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return value.length > MAX_CONTEXT_STRING ? value.slice(0, MAX_CONTEXT_STRING) : value;
}

/**
 * Stores reject with SessionStoreError themselves (their contract); this
 * net turns anything else into one. Handlers are made once per operation:
 * the hot path then allocates no closure per call.
 */
const STORE_FAILURE = Object.fromEntries(
  ['find', 'insert', 'update', 'touch', 'delete', 'deleteExpired', 'listByUser'].map((operation) => [
    operation,
    (error: unknown): never => {
      throw asStoreError(operation, error);
    },
  ]),
) as Record<'find' | 'insert' | 'update' | 'touch' | 'delete' | 'deleteExpired' | 'listByUser', (error: unknown) => never>;

function guarded<T>(pending: Promise<T>, onFailure: (error: unknown) => never): Promise<T> {
  return pending.catch(onFailure);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SessionManager<Data extends object = DefaultSessionData> {
  readonly config: ResolvedConfig;
  readonly #ring: KeyRing;
  readonly #sealer: Sealer;
  readonly #store: SessionStore;
  readonly #cookies: CookieWriter;
  readonly #cookieAd: Buffer;
  readonly #writers = new KeyedMutex();
  readonly #now: () => number;
  #closed = false;
  #closing: Promise<void> | undefined;
  #cleanupTimer: NodeJS.Timeout | undefined;
  #cleanupRunning = false;

  /** @internal Use createSessionManager(). */
  constructor(config: ResolvedConfig, ring: KeyRing, sealer: Sealer, store: SessionStore) {
    this.config = config;
    this.#ring = ring;
    this.#sealer = sealer;
    this.#store = store;
    this.#now = config.now;
    this.#cookies = new CookieWriter(config);
    // The cookie token is bound to the cookie's name: a token lifted into another cookie does not open.
    this.#cookieAd = Buffer.from(`rockstar-session cookie ${config.cookieName}`);
    this.#scheduleCleanup();
  }

  /** The store in use (for diagnostics and benchmarks). */
  get store(): SessionStore {
    return this.#store;
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
    this.#assertOpen();
    const now = this.#now();
    const absoluteExpiresAt = now + this.config.absoluteLifetime;
    const expiresAt = Math.min(now + this.config.sessionLifetime, absoluteExpiresAt);
    const base = {
      createdAt: now,
      updatedAt: now,
      absoluteExpiresAt,
      userId: contextString(ctx?.userId),
      tenantId: contextString(ctx?.tenantId),
      ipAddress: contextString(ctx?.ipAddress),
      userAgent: contextString(ctx?.userAgent),
      data: {},
    };
    const fresh = await this.#insertUnderFreshId(base, expiresAt, false);
    return new Session<Data>(fresh.fields, expiresAt, { storeKey: fresh.key, version: 1, baseline: fresh.plaintext, absoluteExpiresAt, cookieExpiresAt: null });
  }

  async load(ctx: SessionContext, id: string): Promise<Session<Data>> {
    this.#assertOpen();
    const idBytes = parseSessionId(id);
    if (!idBytes) throw new SessionNotFoundError('not a session id');
    return this.#sessionFrom(await this.#openLive(idBytes));
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
   * write made outside a request.
   */
  async save(ctx: SessionContext | null, session: Session<Data>): Promise<void> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'save', false);
    const state = this.#stateOf(session);
    let hasProtoKeys = assertStorable(session.data);
    this.#assertMetaFields(session);
    await this.#writers.run(state.storeKey, async () => {
      await this.#assertNotExpired(session, state);
      let version = state.version;
      let data = session.data as DataRecord;
      let meta: Pick<RecordFields, 'userId' | 'tenantId' | 'ipAddress' | 'userAgent'> = session;
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const now = this.#now();
        const expiresAt = Math.min(now + this.config.sessionLifetime, state.absoluteExpiresAt);
        const fields: RecordFields = {
          id: session.id,
          createdAt: session.createdAt.getTime(),
          updatedAt: now,
          absoluteExpiresAt: state.absoluteExpiresAt,
          userId: meta.userId,
          tenantId: meta.tenantId,
          ipAddress: meta.ipAddress,
          userAgent: meta.userAgent,
          data,
        };
        const plaintext = this.#encodeBounded(fields, hasProtoKeys);
        const write = await this.#recordWrite(state.storeKey, fields, plaintext, expiresAt);
        if (await guarded(this.#store.update(state.storeKey, version, write), STORE_FAILURE.update)) {
          state.version = version + 1;
          state.baseline = plaintext;
          session.data = data as Partial<Data>;
          Object.assign(session, { userId: meta.userId, tenantId: meta.tenantId, ipAddress: meta.ipAddress, userAgent: meta.userAgent });
          session.updatedAt = new Date(now);
          session.expiresAt = new Date(expiresAt);
          if (sink) await this.#issueCookie(sink, parseSessionId(session.id)!, expiresAt, state.version, state);
          return;
        }
        // Someone else wrote first (or destroyed it). Merge our changes onto what is there now.
        const fresh = await this.#openAt(state.storeKey);
        if (!fresh) throw new SessionNotFoundError('session was destroyed while this save was in flight');
        if (fresh.located.record.expiresAt <= this.#now()) throw new SessionExpiredError();
        const changes = changesOf(session, state);
        data = applyChanges(fresh.fields.data, changes);
        meta = { ...fresh.fields, ...changes.fields };
        hasProtoKeys = assertStorable(data);
        version = fresh.located.record.version;
        await this.#backoff(attempt);
      }
      throw new SessionConflictError();
    });
  }

  /**
   * Removes the session. Destroying a missing session resolves (idempotent).
   * Takes an id, or a Session from this manager (then no lookup is needed).
   */
  async destroy(ctx: SessionContext | null, ref: string | Session<Data>): Promise<void> {
    this.#assertOpen();
    const key = this.#knownStoreKey(ref) ?? (await this.#locateRef(ref))?.key;
    if (key === undefined) return;
    await this.#writers.run(key, () => guarded(this.#store.delete(key), STORE_FAILURE.delete));
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
    this.#assertOpen();
    const sink = cookieSink(ctx, 'refresh', false);
    const now = this.#now();
    const state = ref instanceof Session ? sessionState(ref) : undefined;
    if (state && (ref as Session<Data>).expiresAt.getTime() > now) {
      const session = ref as Session<Data>;
      const recordExpiresAt = session.expiresAt.getTime();
      const expiresAt = await this.#slide(sink, state.storeKey, session.id, recordExpiresAt, state.cookieExpiresAt ?? recordExpiresAt, state.absoluteExpiresAt, state.version, state, now);
      if (expiresAt !== null) session.expiresAt = new Date(expiresAt);
      return;
    }
    const id = typeof ref === 'string' ? ref : ref?.id;
    const idBytes = parseSessionId(id);
    const located = idBytes ? await this.#locate(idBytes) : null;
    if (!idBytes || !located) throw new SessionNotFoundError();
    const { record } = located;
    if (record.expiresAt <= now) throw new SessionExpiredError();
    const cookie = ctx ? await this.#cookieTokenFor(ctx, idBytes) : null;
    const basis = cookie?.expiresAt ?? record.expiresAt;
    if (!this.#cookieDue(basis, now)) return;
    // The absolute cap lives inside the sealed record: open it only when something is due.
    const opened = await this.#openLocated(located);
    if (!opened) throw new SessionNotFoundError();
    await this.#slide(sink, located.key, opened.fields.id, record.expiresAt, basis, opened.fields.absoluteExpiresAt, record.version, undefined, now);
  }

  /** True when a cookie (or record) last extended to `basis` is older than touchThreshold. */
  #cookieDue(basis: number, now: number): boolean {
    return now - (basis - this.config.sessionLifetime) >= this.config.touchThreshold;
  }

  /**
   * The refresh decision: returns the record's expiry after it (null when
   * nothing was due). `basis` is the cookie's expiry (or the record's when
   * the cookie is unknown).
   */
  async #slide(sink: SessionContext | null, key: StoreKey, id: string, recordExpiresAt: number, basis: number, absoluteExpiresAt: number, version: number, state: SessionState | undefined, now: number): Promise<number | null> {
    if (!this.#cookieDue(basis, now)) return null;
    const target = Math.min(now + this.config.sessionLifetime, absoluteExpiresAt);
    if (target <= basis && target <= recordExpiresAt) return null; // at the absolute cap: nothing can move
    let expiresAt = recordExpiresAt;
    if (target > recordExpiresAt && (target - recordExpiresAt >= this.config.touchThreshold || recordExpiresAt <= basis)) {
      const touched = await guarded(this.#store.touch(key, target), STORE_FAILURE.touch);
      if (!touched) throw new SessionNotFoundError('session was destroyed while this refresh was in flight');
      expiresAt = target;
    }
    if (sink) await this.#issueCookie(sink, parseSessionId(id)!, expiresAt, version, state);
    return expiresAt;
  }

  /** The sound, unexpired token in ctx's cookie that names this session, if any. */
  async #cookieTokenFor(ctx: SessionContext, idBytes: Buffer): Promise<{ expiresAt: number; version: number } | null> {
    const header = ctx.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) return null;
    const now = this.#now();
    for (const value of this.#cookies.valuesIn(header)) {
      const payload = await this.#openToken(value);
      if (payload && payload.expiresAt > now && payload.idBytes.equals(idBytes)) return payload;
    }
    return null;
  }

  /**
   * A new id for the same data (defence against session fixation); sets the
   * new cookie on ctx and returns the new Session. The object is saved first
   * (merging with concurrent writers), then copied under a fresh id, then
   * the old record is ended by a compare-and-swap at the version just saved:
   * if a destroy or another write came in between, the copy is undone and
   * the move retried (or ERR_SESSION_NOT_FOUND when the session is gone), so
   * a destroyed session never comes back under a new id.
   */
  async regenerate(ctx: SessionContext | null, session: Session<Data>): Promise<Session<Data>> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'regenerate', false);
    const state = this.#stateOf(session);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      // No cookie for the old id: the new one below replaces it.
      await this.save(null, session);
      const moved = await this.#writers.run(state.storeKey, async () => {
        const now = this.#now();
        const expiresAt = Math.min(now + this.config.sessionLifetime, state.absoluteExpiresAt);
        const base = {
          createdAt: session.createdAt.getTime(),
          updatedAt: now,
          absoluteExpiresAt: state.absoluteExpiresAt,
          userId: session.userId,
          tenantId: session.tenantId,
          ipAddress: session.ipAddress,
          userAgent: session.userAgent,
          data: session.data as DataRecord,
        };
        const hasProtoKeys = assertStorable(session.data);
        const fresh = await this.#insertUnderFreshId(base, expiresAt, hasProtoKeys);
        const endedFields: RecordFields = { ...base, id: session.id };
        // Expired from this instant: if the delete below fails, readers already see the old id as ended.
        const ended = await this.#recordWrite(state.storeKey, endedFields, this.#encodeBounded(endedFields, hasProtoKeys), now);
        if (await guarded(this.#store.update(state.storeKey, state.version, ended), STORE_FAILURE.update)) {
          await guarded(this.#store.delete(state.storeKey), STORE_FAILURE.delete);
          return { ...fresh, expiresAt };
        }
        await guarded(this.#store.delete(fresh.key), STORE_FAILURE.delete);
        return null;
      });
      if (moved) {
        const fresh = new Session<Data>(moved.fields, moved.expiresAt, { storeKey: moved.key, version: 1, baseline: moved.plaintext, absoluteExpiresAt: state.absoluteExpiresAt, cookieExpiresAt: null });
        if (sink) await this.#issueCookie(sink, moved.idBytes, moved.expiresAt, 1, sessionState(fresh));
        return fresh;
      }
      await this.#backoff(attempt);
    }
    throw new SessionConflictError();
  }

  // ---------------------------------------------------------------- data access

  /** The value under `key`; ERR_SESSION_KEY_NOT_FOUND if the session has no such key. */
  async get<K extends DataKey<Data>>(id: string, key: K): Promise<Data[K]> {
    this.#assertOpen();
    const opened = await this.#openLive(parseSessionId(id));
    if (!Object.prototype.hasOwnProperty.call(opened.fields.data, key)) throw new SessionKeyNotFoundError(String(key));
    return opened.fields.data[key] as Data[K];
  }

  /**
   * Atomically sets one key (other keys written concurrently are kept).
   * Given the request's ctx, re-issues its cookie (as every write for a
   * request does: see save).
   */
  async set<K extends DataKey<Data>>(id: string, key: K, value: Data[K], ctx?: SessionContext | null): Promise<void> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'set', false);
    this.#assertDataKey(key);
    assertStorable(value, `data[${JSON.stringify(key)}]`);
    await this.#modify(id, sink, (data) => {
      Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
      return { changed: true, result: undefined };
    });
  }

  /** Atomically removes one key. Removing a missing key resolves without writing (and issues no cookie). */
  async delete<K extends DataKey<Data>>(id: string, key: K, ctx?: SessionContext | null): Promise<void> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'delete', false);
    this.#assertDataKey(key);
    await this.#modify(id, sink, (data) => {
      if (!Object.prototype.hasOwnProperty.call(data, key)) return { changed: false, result: undefined };
      delete data[key];
      return { changed: true, result: undefined };
    });
  }

  /** Removes every key; the session itself stays. */
  async clear(id: string, ctx?: SessionContext | null): Promise<void> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'clear', false);
    await this.#modify(id, sink, (data) => {
      const keys = Object.keys(data);
      for (const key of keys) delete data[key];
      return { changed: keys.length > 0, result: undefined };
    });
  }

  /**
   * Atomic read-modify-write of one key: `fn` gets the current value
   * (undefined when absent) and returns the new one (undefined removes the
   * key). `fn` may run more than once when other processes write
   * concurrently, so it must not have side effects. Resolves to the value stored.
   */
  async update<K extends DataKey<Data>>(
    id: string,
    key: K,
    fn: (current: Data[K] | undefined) => Data[K] | undefined | Promise<Data[K] | undefined>,
    ctx?: SessionContext | null,
  ): Promise<Data[K] | undefined> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'update', false);
    this.#assertDataKey(key);
    if (typeof fn !== 'function') throw new SessionDataError('update(id, key, fn): fn must be a function');
    return this.#modify(id, sink, async (data) => {
      const had = Object.prototype.hasOwnProperty.call(data, key);
      const next = await fn(had ? (data[key] as Data[K]) : undefined);
      if (next === undefined) {
        if (!had) return { changed: false, result: undefined };
        delete data[key];
        return { changed: true, result: undefined };
      }
      assertStorable(next, `data[${JSON.stringify(key)}]`);
      Object.defineProperty(data, key, { value: next, enumerable: true, writable: true, configurable: true });
      return { changed: true, result: next };
    });
  }

  // ---------------------------------------------------------------- cookies

  /** Sets the encrypted session cookie (id and expiry, sealed) on ctx. */
  async setCookie(ctx: SessionContext, session: Session<Data>): Promise<void> {
    this.#assertOpen();
    const sink = cookieSink(ctx, 'setCookie', true)!;
    const idBytes = parseSessionId(session?.id);
    if (!idBytes) throw new SessionNotFoundError('setCookie needs a session from this manager');
    const state = session instanceof Session ? sessionState(session) : undefined;
    await this.#issueCookie(sink, idBytes, session.expiresAt.getTime(), state?.version ?? 0, state);
  }

  /** Tells the browser to drop the session cookie. */
  async clearCookie(ctx: SessionContext): Promise<void> {
    this.#assertOpen();
    cookieSink(ctx, 'clearCookie', true)!.appendSetCookie(this.#cookies.clearing());
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
    this.#assertOpen();
    const header = ctx?.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) throw new InvalidCookieError('no session cookie');
    let expired = false;
    let dead: SessionError | null = null;
    for (const value of this.#cookies.valuesIn(header)) {
      const payload = await this.#openToken(value);
      if (!payload) continue;
      if (payload.expiresAt <= this.#now()) {
        expired = true;
        continue;
      }
      let session: Session<Data>;
      try {
        session = this.#sessionFrom(await this.#openLive(payload.idBytes, payload.version));
      } catch (error) {
        if (error instanceof SessionNotFoundError || error instanceof SessionExpiredError) {
          dead ??= error;
          continue;
        }
        throw error;
      }
      const state = sessionState(session)!;
      state.cookieExpiresAt = payload.expiresAt;
      // A token sealed with a previous key is re-issued under the current one.
      if (payload.stale && typeof ctx.appendSetCookie === 'function') await this.#issueCookie(ctx, payload.idBytes, payload.expiresAt, Math.max(payload.version, state.version), state);
      return session;
    }
    if (dead) throw dead;
    throw new InvalidCookieError(expired ? 'session cookie expired' : 'session cookie is malformed, tampered or sealed with an unknown key');
  }

  /** The claims of one cookie value, or null unless it is a sound token of ours (expired ones included). */
  async #openToken(value: string): Promise<(TokenPayload & { stale: boolean }) | null> {
    const sealed = tokenBytesFromCookieValue(value);
    if (!sealed) return null;
    const opened = await this.#sealer.open('cookie', sealed, this.#cookieAd);
    const payload = opened && decodeTokenPayload(opened.plaintext);
    return payload ? { ...payload, stale: opened.stale } : null;
  }

  // ---------------------------------------------------------------- validation

  /**
   * True when the session exists and has not expired. Takes an id, or a
   * Session from this manager (its store key is known: no hashing). Never
   * throws for bad ids; store failures still reject.
   */
  async isValid(ref: string | Session<Data>): Promise<boolean> {
    this.#assertOpen();
    const located = await this.#locateRef(ref);
    return located !== null && located.record.expiresAt > this.#now();
  }

  /** True when the session is past its lifetime, or missing. */
  async isExpired(ref: string | Session<Data>): Promise<boolean> {
    return !(await this.isValid(ref));
  }

  // ---------------------------------------------------------------- users

  /** Live sessions of one user (at most `limit`, default 1000). */
  async listForUser(userId: string, options: { limit?: number } = {}): Promise<Session<Data>[]> {
    this.#assertOpen();
    if (typeof userId !== 'string' || userId.length === 0) throw new SessionDataError('listForUser(userId): userId must be a non-empty string');
    const now = this.#now();
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    const sessions: Session<Data>[] = [];
    for (const opened of await this.#openAllForUser(userId, limit)) {
      if (opened.located.record.expiresAt <= now) continue;
      sessions.push(this.#sessionFrom(opened));
    }
    return sessions;
  }

  /** Destroys every session of the user except `except` (an id). Resolves to the number destroyed. ("Log out everywhere".) */
  async destroyAllForUser(userId: string, options: { except?: string } = {}): Promise<number> {
    this.#assertOpen();
    if (typeof userId !== 'string' || userId.length === 0) throw new SessionDataError('destroyAllForUser(userId): userId must be a non-empty string');
    let destroyed = 0;
    for (;;) {
      const batch = (await this.#openAllForUser(userId, DEFAULT_LIST_LIMIT)).filter((o) => o.fields.id !== options.except);
      for (const { located } of batch) {
        await this.#writers.run(located.key, () => guarded(this.#store.delete(located.key), STORE_FAILURE.delete));
        destroyed++;
      }
      // Each round deletes at least one session, so this ends; the last round finds none left.
      if (batch.length === 0) return destroyed;
    }
  }

  // ---------------------------------------------------------------- maintenance

  /** Removes expired sessions from the store; resolves to how many were removed. */
  async cleanupExpired(): Promise<number> {
    this.#assertOpen();
    return guarded(this.#store.deleteExpired(this.#now()), STORE_FAILURE.deleteExpired);
  }

  /** Stops the cleanup timer, closes the sealer and the store. Idempotent; later calls reject with ERR_SESSION_CLOSED. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    clearTimeout(this.#cleanupTimer);
    this.#closing = (async () => {
      const results = await Promise.allSettled([this.#sealer.close(), this.#store.close()]);
      // No key material outlives the manager (the pooled sealer zeroes its own copies).
      this.#ring.zero();
      zeroConfigKeys(this.config);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw asStoreError('close', failure.reason);
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------- internals

  #assertOpen(): void {
    if (this.#closed) throw new SessionClosedError();
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

  #encodeBounded(fields: RecordFields, hasProtoKeys: boolean): Buffer {
    const plaintext = encodeRecord(fields, hasProtoKeys);
    if (plaintext.byteLength > this.config.maxDataBytes) {
      throw new SessionDataError(`session encodes to ${plaintext.byteLength} bytes, over maxDataBytes (${this.config.maxDataBytes})`);
    }
    return plaintext;
  }

  async #recordWrite(key: StoreKey, fields: RecordFields, plaintext: Buffer, expiresAt: number): Promise<RecordWrite> {
    const sealed = await this.#sealer.seal('record', plaintext, Buffer.from(key, 'latin1'));
    return {
      expiresAt,
      userTag: fields.userId === null ? null : tagHex(this.#ring.current, fields.userId),
      tenantTag: fields.tenantId === null ? null : tagHex(this.#ring.current, fields.tenantId),
      sealed,
    };
  }

  /**
   * A save must not revive a session past its lifetime. The object's own
   * expiresAt settles it in the usual case; only when it says "expired" is
   * the store asked, since another request may have extended it meanwhile.
   */
  async #assertNotExpired(session: Session<Data>, state: SessionState): Promise<void> {
    const now = this.#now();
    if (now >= state.absoluteExpiresAt) throw new SessionExpiredError();
    if (now < session.expiresAt.getTime()) return;
    const record = await guarded(this.#store.find(state.storeKey), STORE_FAILURE.find);
    if (!record) throw new SessionNotFoundError();
    if (record.expiresAt <= now) throw new SessionExpiredError();
  }

  /** Inserts a record under a fresh id. A 256-bit id never collides in practice; the retry only makes insert-only total. */
  async #insertUnderFreshId(base: Omit<RecordFields, 'id'>, expiresAt: number, hasProtoKeys: boolean): Promise<{ fields: RecordFields; key: StoreKey; idBytes: Buffer; plaintext: Buffer }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { id, bytes } = newSessionId();
      const key = storeKeyHex(this.#ring.current, bytes);
      const fields: RecordFields = { id, ...base };
      const plaintext = this.#encodeBounded(fields, hasProtoKeys);
      const write = await this.#recordWrite(key, fields, plaintext, expiresAt);
      if (await guarded(this.#store.insert(key, write), STORE_FAILURE.insert)) return { fields, key, idBytes: bytes, plaintext };
    }
    throw new SessionStoreError('session store refused three fresh ids in a row');
  }


  /**
   * The record for an id. Store keys derive from the key that was current
   * when the session was created, so after a key rotation older sessions
   * are found under a previous key's store key (tried in ring order).
   */
  async #locate(idBytes: Buffer, minVersion?: number): Promise<Located | null> {
    const entries = this.#ring.entries;
    for (let i = 0; i < entries.length; i++) {
      const key = storeKeyHex(entries[i] as KeyEntry, idBytes);
      const record = await guarded(this.#store.find(key, minVersion), STORE_FAILURE.find);
      if (record) return { key, record };
    }
    return null;
  }

  /** The store key of a Session object from this manager, without hashing; undefined for ids and foreign objects. */
  #knownStoreKey(ref: string | Session<Data>): StoreKey | undefined {
    return ref instanceof Session ? sessionState(ref)?.storeKey : undefined;
  }

  /** The record named by an id or by a Session object. */
  async #locateRef(ref: string | Session<Data>): Promise<Located | null> {
    const known = this.#knownStoreKey(ref);
    if (known !== undefined) {
      const record = await guarded(this.#store.find(known), STORE_FAILURE.find);
      return record ? { key: known, record } : null;
    }
    const idBytes = parseSessionId(typeof ref === 'string' ? ref : ref?.id);
    return idBytes ? this.#locate(idBytes) : null;
  }

  async #openLocated(located: Located): Promise<Opened | null> {
    const opened = await this.#sealer.open('record', located.record.sealed, Buffer.from(located.key, 'latin1'));
    const fields = opened && decodeRecord(opened.plaintext);
    if (!opened || !fields) {
      // Sealed bytes that do not open under this key's binding: corrupt or foreign. Report, treat as missing.
      this.config.onError(new SessionStoreError(`record ${located.key.slice(0, 12)}… did not open (corrupt, foreign or sealed with an unknown key); treated as missing`));
      return null;
    }
    return { located, fields, plaintext: opened.plaintext };
  }

  async #openAt(key: StoreKey): Promise<Opened | null> {
    const record = await guarded(this.#store.find(key), STORE_FAILURE.find);
    return record ? this.#openLocated({ key, record }) : null;
  }

  /**
   * Opens a live session or throws the seed's errors. The record is sealed
   * with its store key (a hash of these id bytes) as additional data, so a
   * record that opens here belongs to this id.
   */
  async #openLive(idBytes: Buffer | null, minVersion?: number): Promise<Opened> {
    const located = idBytes ? await this.#locate(idBytes, minVersion) : null;
    if (!located) throw new SessionNotFoundError();
    if (located.record.expiresAt <= this.#now()) throw new SessionExpiredError();
    const opened = await this.#openLocated(located);
    if (!opened) throw new SessionNotFoundError();
    return opened;
  }

  #sessionFrom(opened: Opened): Session<Data> {
    const { located, fields, plaintext } = opened;
    return new Session<Data>(fields, located.record.expiresAt, {
      storeKey: located.key,
      version: located.record.version,
      baseline: plaintext,
      absoluteExpiresAt: fields.absoluteExpiresAt,
      cookieExpiresAt: null,
    });
  }

  async #openAllForUser(userId: string, limit: number): Promise<Opened[]> {
    const seen = new Set<StoreKey>();
    const result: Opened[] = [];
    for (const entry of this.#ring.entries) {
      const listed = await guarded(this.#store.listByUser(tagHex(entry, userId), limit), STORE_FAILURE.listByUser);
      for (const located of listed) {
        if (seen.has(located.key)) continue;
        seen.add(located.key);
        const opened = await this.#openLocated(located);
        // The tag is a 128-bit hash: check the real id before acting on a record.
        if (opened && opened.fields.userId === userId) result.push(opened);
      }
    }
    return result;
  }

  /** Read-modify-write of one session's data under the per-key writer lock, retried on CAS conflicts. */
  async #modify<T>(id: string, sink: SessionContext | null, change: (data: DataRecord) => { changed: boolean; result: T } | Promise<{ changed: boolean; result: T }>): Promise<T> {
    const idBytes = parseSessionId(id);
    const located = idBytes ? await this.#locate(idBytes) : null;
    if (!located) throw new SessionNotFoundError();
    return this.#writers.run(located.key, async () => {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const opened = await this.#openAt(located.key);
        if (!opened || opened.fields.id !== id) throw new SessionNotFoundError();
        const { record } = opened.located;
        const now = this.#now();
        if (record.expiresAt <= now) throw new SessionExpiredError();
        const { changed, result } = await change(opened.fields.data);
        if (!changed) return result;
        const fields: RecordFields = { ...opened.fields, updatedAt: now };
        const plaintext = this.#encodeBounded(fields, assertStorable(fields.data));
        const expiresAt = Math.min(now + this.config.sessionLifetime, fields.absoluteExpiresAt);
        const write = await this.#recordWrite(located.key, fields, plaintext, expiresAt);
        if (await guarded(this.#store.update(located.key, record.version, write), STORE_FAILURE.update)) {
          if (sink) await this.#issueCookie(sink, idBytes!, expiresAt, record.version + 1, undefined);
          return result;
        }
        await this.#backoff(attempt);
      }
      throw new SessionConflictError();
    });
  }

  /** Between CAS retries against other processes: none at first, then a short random wait that grows. */
  async #backoff(attempt: number): Promise<void> {
    if (attempt < 2) return;
    await sleep(Math.random() * Math.min(50, 2 ** (attempt - 2)));
  }

  /** Seals and appends the cookie; `state` (the Session it was issued through) remembers its expiry for refresh. */
  async #issueCookie(ctx: SessionContext, idBytes: Buffer, expiresAt: number, version: number, state: SessionState | undefined): Promise<void> {
    const sealed = await this.#sealer.seal('cookie', encodeTokenPayload(idBytes, expiresAt, version), this.#cookieAd);
    ctx.appendSetCookie(this.#cookies.build(sealed.toString('base64url'), expiresAt, this.#now()));
    if (state) state.cookieExpiresAt = expiresAt;
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
  const store = await createStore(resolved);
  try {
    await store.open();
  } catch (error) {
    await store.close().catch(() => {});
    throw error instanceof SessionError ? error : asStoreError('open', error);
  }
  const sealer = createSealer(resolved, ring);
  return new SessionManager<Data>(resolved, ring, sealer, store);
}
