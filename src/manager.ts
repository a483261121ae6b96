/**
 * SessionManager: the one place that sequences codec -> sealer -> store.
 * It never sees SQL or paths (stores) and never calls sodium (the Sealer).
 */
import { KeyRing, storeKeyHex, tagHex, type KeyEntry } from './crypto/aead.ts';
import { createSealer } from './crypto/factory.ts';
import type { Sealer } from './crypto/sealer.ts';
import { assertStorable, decodeRecord, encodeRecord, type RecordFields, type SessionData } from './codec.ts';
import { validateConfig, type ResolvedConfig, type SessionConfig } from './config.ts';
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
  InvalidCookieError,
} from './errors.ts';
import { CookieWriter } from './http/cookie.ts';
import type { SessionContext } from './http/context.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { applyChanges, changesOf, Session, sessionState, type SessionState } from './session.ts';
import { createStore } from './stores/factory.ts';
import type { RecordWrite, SessionStore, StoredRecord, StoreKey } from './stores/store.ts';
import {
  decodeTokenPayload,
  encodeTokenPayload,
  newSessionId,
  parseSessionId,
  tokenBytesFromCookieValue,
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

export class SessionManager {
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

  // ---------------------------------------------------------------- lifecycle

  async create(ctx: SessionContext): Promise<Session> {
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
    return new Session(fresh.fields, expiresAt, { storeKey: fresh.key, version: 1, baseline: fresh.plaintext, absoluteExpiresAt });
  }

  async load(ctx: SessionContext, id: string): Promise<Session> {
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
   */
  async save(ctx: SessionContext, session: Session): Promise<void> {
    this.#assertOpen();
    const state = this.#stateOf(session);
    let hasProtoKeys = assertStorable(session.data);
    this.#assertMetaFields(session);
    await this.#writers.run(state.storeKey, async () => {
      await this.#assertNotExpired(session, state);
      let version = state.version;
      let data = session.data;
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
          session.data = data;
          Object.assign(session, { userId: meta.userId, tenantId: meta.tenantId, ipAddress: meta.ipAddress, userAgent: meta.userAgent });
          session.updatedAt = new Date(now);
          session.expiresAt = new Date(expiresAt);
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
  async destroy(ctx: SessionContext, ref: string | Session): Promise<void> {
    this.#assertOpen();
    const key = this.#knownStoreKey(ref) ?? (await this.#locateRef(ref))?.key;
    if (key === undefined) return;
    await this.#writers.run(key, () => guarded(this.#store.delete(key), STORE_FAILURE.delete));
  }

  /**
   * Extends the idle expiry (never past the absolute lifetime) and re-issues
   * the cookie on ctx. A metadata-only write, skipped while the last
   * extension is younger than touchThreshold.
   *
   * Given a Session just returned by load or getSessionFromCookie (the
   * usual middleware), the decision is made from its expiresAt without
   * reading the store again; given an id, the record is read first.
   */
  async refresh(ctx: SessionContext, ref: string | Session): Promise<void> {
    this.#assertOpen();
    const now = this.#now();
    const state = ref instanceof Session ? sessionState(ref) : undefined;
    if (state && (ref as Session).expiresAt.getTime() > now) {
      const session = ref as Session;
      const expiresAt = this.#extendedExpiry(session.expiresAt.getTime(), state.absoluteExpiresAt, now);
      if (expiresAt === null) return;
      await this.#touchAndReissue(ctx, state.storeKey, parseSessionId(session.id)!, expiresAt);
      session.expiresAt = new Date(expiresAt);
      return;
    }
    const id = typeof ref === 'string' ? ref : ref?.id;
    const idBytes = parseSessionId(id);
    const located = idBytes ? await this.#locate(idBytes) : null;
    if (!idBytes || !located) throw new SessionNotFoundError();
    const { record } = located;
    if (record.expiresAt <= now) throw new SessionExpiredError();
    if (this.#extendedExpiry(record.expiresAt, Infinity, now) === null) return;
    // The absolute cap lives inside the sealed record: open it only when a write is due.
    const opened = await this.#openLocated(located);
    if (!opened) throw new SessionNotFoundError();
    const expiresAt = this.#extendedExpiry(record.expiresAt, opened.fields.absoluteExpiresAt, now);
    if (expiresAt !== null) await this.#touchAndReissue(ctx, located.key, idBytes, expiresAt);
  }

  /** The new expiry a refresh should write, or null when the debounce or the absolute cap says there is nothing to do. */
  #extendedExpiry(currentExpiresAt: number, absoluteExpiresAt: number, now: number): number | null {
    const lastExtendedAt = currentExpiresAt - this.config.sessionLifetime;
    if (now - lastExtendedAt < this.config.touchThreshold) return null;
    const expiresAt = Math.min(now + this.config.sessionLifetime, absoluteExpiresAt);
    return expiresAt > currentExpiresAt ? expiresAt : null;
  }

  async #touchAndReissue(ctx: SessionContext, key: StoreKey, idBytes: Buffer, expiresAt: number): Promise<void> {
    const touched = await guarded(this.#store.touch(key, expiresAt), STORE_FAILURE.touch);
    if (!touched) throw new SessionNotFoundError('session was destroyed while this refresh was in flight');
    await this.#issueCookie(ctx, idBytes, expiresAt);
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
  async regenerate(ctx: SessionContext, session: Session): Promise<Session> {
    this.#assertOpen();
    const state = this.#stateOf(session);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      await this.save(ctx, session);
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
          data: session.data,
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
        await this.#issueCookie(ctx, moved.idBytes, moved.expiresAt);
        return new Session(moved.fields, moved.expiresAt, { storeKey: moved.key, version: 1, baseline: moved.plaintext, absoluteExpiresAt: state.absoluteExpiresAt });
      }
      await this.#backoff(attempt);
    }
    throw new SessionConflictError();
  }

  // ---------------------------------------------------------------- data access

  /** The value under `key`; ERR_SESSION_KEY_NOT_FOUND if the session has no such key. */
  async get(id: string, key: string): Promise<unknown> {
    this.#assertOpen();
    const opened = await this.#openLive(parseSessionId(id));
    if (!Object.prototype.hasOwnProperty.call(opened.fields.data, key)) throw new SessionKeyNotFoundError(String(key));
    return opened.fields.data[key];
  }

  /** Atomically sets one key (other keys written concurrently are kept). */
  async set(id: string, key: string, value: unknown): Promise<void> {
    this.#assertOpen();
    this.#assertDataKey(key);
    assertStorable(value, `data[${JSON.stringify(key)}]`);
    await this.#modify(id, (data) => {
      Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
      return { changed: true, result: undefined };
    });
  }

  /** Atomically removes one key. Removing a missing key resolves without writing. */
  async delete(id: string, key: string): Promise<void> {
    this.#assertOpen();
    this.#assertDataKey(key);
    await this.#modify(id, (data) => {
      if (!Object.prototype.hasOwnProperty.call(data, key)) return { changed: false, result: undefined };
      delete data[key];
      return { changed: true, result: undefined };
    });
  }

  /** Removes every key; the session itself stays. */
  async clear(id: string): Promise<void> {
    this.#assertOpen();
    await this.#modify(id, (data) => {
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
  async update<T = unknown>(id: string, key: string, fn: (current: T | undefined) => T | undefined | Promise<T | undefined>): Promise<T | undefined> {
    this.#assertOpen();
    this.#assertDataKey(key);
    if (typeof fn !== 'function') throw new SessionDataError('update(id, key, fn): fn must be a function');
    return this.#modify(id, async (data) => {
      const had = Object.prototype.hasOwnProperty.call(data, key);
      const next = await fn(had ? (data[key] as T) : undefined);
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
  async setCookie(ctx: SessionContext, session: Session): Promise<void> {
    this.#assertOpen();
    const idBytes = parseSessionId(session?.id);
    if (!idBytes) throw new SessionNotFoundError('setCookie needs a session from this manager');
    await this.#issueCookie(ctx, idBytes, session.expiresAt.getTime());
  }

  /** Tells the browser to drop the session cookie. */
  async clearCookie(ctx: SessionContext): Promise<void> {
    this.#assertOpen();
    ctx.appendSetCookie(this.#cookies.clearing());
  }

  /**
   * The session named by the request's cookie. ERR_SESSION_INVALID_COOKIE for
   * an absent, malformed, tampered, foreign-key or expired cookie;
   * ERR_SESSION_NOT_FOUND / ERR_SESSION_EXPIRED when the token is sound but
   * the session is gone or past its lifetime.
   */
  async getSessionFromCookie(ctx: SessionContext): Promise<Session> {
    this.#assertOpen();
    const header = ctx?.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) throw new InvalidCookieError('no session cookie');
    let expired = false;
    for (const value of this.#cookies.valuesIn(header)) {
      const sealed = tokenBytesFromCookieValue(value);
      if (!sealed) continue;
      const opened = await this.#sealer.open('cookie', sealed, this.#cookieAd);
      const payload = opened && decodeTokenPayload(opened.plaintext);
      if (!payload) continue;
      if (payload.expiresAt <= this.#now()) {
        expired = true;
        continue;
      }
      const session = this.#sessionFrom(await this.#openLive(payload.idBytes));
      // A token sealed with a previous key is re-issued under the current one.
      if (opened.stale) await this.#issueCookie(ctx, payload.idBytes, session.expiresAt.getTime());
      return session;
    }
    throw new InvalidCookieError(expired ? 'session cookie expired' : 'session cookie is malformed, tampered or sealed with an unknown key');
  }

  // ---------------------------------------------------------------- validation

  /**
   * True when the session exists and has not expired. Takes an id, or a
   * Session from this manager (its store key is known: no hashing). Never
   * throws for bad ids; store failures still reject.
   */
  async isValid(ref: string | Session): Promise<boolean> {
    this.#assertOpen();
    const located = await this.#locateRef(ref);
    return located !== null && located.record.expiresAt > this.#now();
  }

  /** True when the session is past its lifetime, or missing. */
  async isExpired(ref: string | Session): Promise<boolean> {
    return !(await this.isValid(ref));
  }

  // ---------------------------------------------------------------- users

  /** Live sessions of one user (at most `limit`, default 1000). */
  async listForUser(userId: string, options: { limit?: number } = {}): Promise<Session[]> {
    this.#assertOpen();
    if (typeof userId !== 'string' || userId.length === 0) throw new SessionDataError('listForUser(userId): userId must be a non-empty string');
    const now = this.#now();
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    const sessions: Session[] = [];
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
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw asStoreError('close', failure.reason);
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------- internals

  #assertOpen(): void {
    if (this.#closed) throw new SessionClosedError();
  }

  #stateOf(session: Session): SessionState {
    const state = session instanceof Session ? sessionState(session) : undefined;
    if (!state) throw new SessionDataError('expected a Session returned by this manager (create, load or getSessionFromCookie)');
    return state;
  }

  #assertDataKey(key: unknown): asserts key is string {
    if (typeof key !== 'string') throw new SessionDataError(`session data keys must be strings; received ${typeof key}`);
  }

  #assertMetaFields(session: Session): void {
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
  async #assertNotExpired(session: Session, state: SessionState): Promise<void> {
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
  async #locate(idBytes: Buffer): Promise<Located | null> {
    const entries = this.#ring.entries;
    for (let i = 0; i < entries.length; i++) {
      const key = storeKeyHex(entries[i] as KeyEntry, idBytes);
      const record = await guarded(this.#store.find(key), STORE_FAILURE.find);
      if (record) return { key, record };
    }
    return null;
  }

  /** The store key of a Session object from this manager, without hashing; undefined for ids and foreign objects. */
  #knownStoreKey(ref: string | Session): StoreKey | undefined {
    return ref instanceof Session ? sessionState(ref)?.storeKey : undefined;
  }

  /** The record named by an id or by a Session object. */
  async #locateRef(ref: string | Session): Promise<Located | null> {
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
  async #openLive(idBytes: Buffer | null): Promise<Opened> {
    const located = idBytes ? await this.#locate(idBytes) : null;
    if (!located) throw new SessionNotFoundError();
    if (located.record.expiresAt <= this.#now()) throw new SessionExpiredError();
    const opened = await this.#openLocated(located);
    if (!opened) throw new SessionNotFoundError();
    return opened;
  }

  #sessionFrom(opened: Opened): Session {
    const { located, fields, plaintext } = opened;
    return new Session(fields, located.record.expiresAt, {
      storeKey: located.key,
      version: located.record.version,
      baseline: plaintext,
      absoluteExpiresAt: fields.absoluteExpiresAt,
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
  async #modify<T>(id: string, change: (data: SessionData) => { changed: boolean; result: T } | Promise<{ changed: boolean; result: T }>): Promise<T> {
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
        if (await guarded(this.#store.update(located.key, record.version, write), STORE_FAILURE.update)) return result;
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

  async #issueCookie(ctx: SessionContext, idBytes: Buffer, expiresAt: number): Promise<void> {
    const sealed = await this.#sealer.seal('cookie', encodeTokenPayload(idBytes, expiresAt), this.#cookieAd);
    ctx.appendSetCookie(this.#cookies.build(sealed.toString('base64url'), expiresAt, this.#now()));
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
export async function createSessionManager(config: SessionConfig): Promise<SessionManager> {
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
  return new SessionManager(resolved, ring, sealer, store);
}
