/**
 * RequestSession: `req.session` (Express) and `request.session` (Fastify).
 *
 * One per request, always there: the session the request's cookie names,
 * or a fresh one that is not stored and sets no cookie until it holds
 * something (express-session's `saveUninitialized: false`). The adapters
 * call commit() when the response is about to go out: a session whose data
 * or user/tenant fields changed is saved (the manager's per-key merge, so
 * concurrent requests changing different keys both land); an unchanged one
 * is refreshed (sliding expiry, debounced by touchThreshold) or left alone
 * (`resave: false`: no write when nothing changed).
 *
 * express-session's lifecycle calls are here under the same names, as
 * promises: save, regenerate (keeps the data, unlike express-session's),
 * destroy, reload, touch. They run one at a time, in the order called, and
 * the end-of-request commit waits for any still running.
 */
import { InvalidCookieError, SessionDataError, SessionExpiredError, SessionNotFoundError } from '../errors.ts';
import type { SessionManager } from '../manager.ts';
import type { Session } from '../session.ts';
import type { DataKey, DefaultSessionData } from '../session-data.ts';
import { copyData, sameData } from './data-snapshot.ts';
import type { FrameworkContext } from './framework-context.ts';

/** Where a RequestSession reports failures nobody awaits (a refresh at the end of a request). */
export interface FailureReporter {
  report(error: unknown): void;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

function hasKeys(data: object): boolean {
  return Object.keys(data).length > 0;
}

/** A cookie that names no live session: the request gets a fresh session instead of an error. */
export function isDeadCookieError(error: unknown): boolean {
  return error instanceof InvalidCookieError || error instanceof SessionNotFoundError || error instanceof SessionExpiredError;
}

function assertField(name: string, value: unknown): asserts value is string | null {
  if (value !== null && typeof value !== 'string') throw new SessionDataError(`session.${name} must be a string or null; received ${typeof value}`);
}

export class RequestSession<Data extends object = DefaultSessionData> {
  readonly #manager: SessionManager<Data>;
  readonly #ctx: FrameworkContext;
  readonly #rolling: boolean;
  readonly #reporter: FailureReporter;
  /** The stored session, or null while this one is fresh (not stored, no cookie). */
  #session: Session<Data> | null;
  #data: Partial<Data>;
  /** A copy of the data as stored, taken when the application first reads `data`; undefined until then (it cannot have changed). */
  #snapshot: Partial<Data> | undefined = undefined;
  #userId: string | null;
  #tenantId: string | null;
  #storedUserId: string | null;
  #storedTenantId: string | null;
  /** The tail of the lifecycle calls in flight, or null when none is. */
  #running: Promise<void> | null = null;
  #committed = false;

  /** @internal The adapters build it (sessionMiddleware, sessionPlugin). */
  constructor(manager: SessionManager<Data>, ctx: FrameworkContext, session: Session<Data> | null, rolling: boolean, reporter: FailureReporter) {
    this.#manager = manager;
    this.#ctx = ctx;
    this.#rolling = rolling;
    this.#reporter = reporter;
    this.#session = session;
    this.#data = session ? session.data : ({} as Partial<Data>);
    this.#userId = this.#storedUserId = session ? session.userId : null;
    this.#tenantId = this.#storedTenantId = session ? session.tenantId : null;
  }

  /** The session id (express-session's `req.sessionID`), or null while the session is fresh. */
  get id(): string | null {
    return this.#session ? this.#session.id : null;
  }

  /** True until the session is stored (it then has an id and a cookie). */
  get isNew(): boolean {
    return this.#session === null;
  }

  /** When the stored session expires unless used again; null while fresh. */
  get expiresAt(): Date | null {
    return this.#session ? this.#session.expiresAt : null;
  }

  /**
   * The session's data, this request's own copy: change it, and it is saved
   * before the response goes out (express-session's `req.session.foo = …`
   * is `req.session.data.foo = …` here). Nested changes count too.
   */
  get data(): Partial<Data> {
    if (this.#snapshot === undefined) this.#snapshot = this.#session ? copyData(this.#data) : (EMPTY as Partial<Data>);
    return this.#data;
  }

  set data(value: Partial<Data>) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SessionDataError('session.data must be a plain object');
    void this.data; // the snapshot of what was there, to compare against
    this.#data = value;
  }

  /** The user this session belongs to (indexes it for listForUser / destroyAllForUser). Saved like data. */
  get userId(): string | null {
    return this.#userId;
  }

  set userId(value: string | null) {
    assertField('userId', value);
    this.#userId = value;
  }

  get tenantId(): string | null {
    return this.#tenantId;
  }

  set tenantId(value: string | null) {
    assertField('tenantId', value);
    this.#tenantId = value;
  }

  /** True when something would be written at the end of the request (@fastify/session's isModified). */
  isModified(): boolean {
    if (this.#userId !== this.#storedUserId || this.#tenantId !== this.#storedTenantId) return true;
    if (this.#snapshot === undefined) return false;
    return !sameData(this.#snapshot, this.#data);
  }

  /**
   * Saves now (express-session's `req.session.save()`), for code that must
   * know the data is stored before it goes on. A fresh session is stored
   * even when empty. Nothing is written when nothing changed since the last
   * save; the end of the request then writes only what changed after it.
   * When it rejects, the end of the request does not try the same write
   * again: the caller has heard of the failure and answers as it chooses.
   */
  save(): Promise<void> {
    return this.#serially(async () => {
      try {
        await this.#write(true);
      } catch (error) {
        // The caller hears of it and answers as it sees fit: the end of the request does not retry what it was told failed.
        this.#settleAsSeen();
        throw error;
      }
    });
  }

  /**
   * A new id for the same data, the old id dead (call it at login: whoever
   * knew the old id holds nothing). Unlike express-session's, the data is
   * kept; call destroy() first for an empty session. On a fresh session it
   * does nothing: its id will be new when it is stored. When it rejects,
   * this request's unsaved changes are dropped (as by reload()), so the end
   * of the request cannot store them under the old id. (The manager's own
   * regenerate first saves under the old id, to merge concurrent writes: a
   * failure after that step leaves them stored there.)
   */
  regenerate(): Promise<void> {
    return this.#serially(async () => {
      const session = this.#session;
      if (session === null) return;
      this.#applyTo(session);
      let next: Session<Data>;
      try {
        next = await this.#manager.regenerate(this.#ctx, session);
      } catch (error) {
        // The caller hears of it. This request's unsaved changes (the login) are dropped, as reload() would: the end
        // of the request must not store them under the old id, which whoever planted it (session fixation) holds.
        this.#dropUnsaved();
        throw error;
      }
      this.#adopt(next);
    });
  }

  /**
   * Removes the session from the store and clears the cookie (logout). The
   * request goes on with a fresh, empty session: data set after this starts
   * a new one.
   */
  destroy(): Promise<void> {
    return this.#serially(async () => {
      const session = this.#session;
      if (session !== null) await this.#manager.destroy(this.#ctx, session);
      if (session !== null || this.#ctx.carriesSessionCookie) await this.#manager.clearCookie(this.#ctx);
      this.#becomeFresh();
    });
  }

  /**
   * Re-reads the session from the store, dropping this request's unsaved
   * changes. Rejects with ERR_SESSION_NOT_FOUND / ERR_SESSION_EXPIRED when it
   * is gone meanwhile (the request then goes on with a fresh session). A
   * fresh session is emptied.
   */
  reload(): Promise<void> {
    return this.#serially(async () => {
      const session = this.#session;
      if (session === null) {
        this.#becomeFresh();
        return;
      }
      try {
        this.#adopt(await this.#manager.load(this.#ctx, session.id));
      } catch (error) {
        if (isDeadCookieError(error)) this.#becomeFresh();
        throw error;
      }
    });
  }

  /**
   * Extends the expiry now and re-issues the cookie (express-session's
   * touch), debounced like every refresh by touchThreshold. With `rolling`
   * (the default) every request already does this.
   */
  touch(): Promise<void> {
    return this.#serially(async () => {
      if (this.#session !== null) await this.#manager.refresh(this.#ctx, this.#session);
    });
  }

  /**
   * Atomic read-modify-write of one key in the store (manager.update): `fn`
   * gets the stored value and returns the new one (undefined removes the
   * key). Concurrent updates of the same key all land, where two requests
   * assigning `data.key` would leave only the last one. `fn` may run more
   * than once: keep it pure. Resolves to the value stored.
   */
  update<K extends DataKey<Data>>(key: K, fn: (current: Data[K] | undefined) => Data[K] | undefined | Promise<Data[K] | undefined>): Promise<Data[K] | undefined> {
    return this.#serially(async () => {
      const data = this.data as Record<string, unknown>;
      const session = this.#session;
      let value: Data[K] | undefined;
      if (session === null) {
        // Not stored yet: nobody else can be writing it. The end-of-request save stores it.
        value = await fn(data[key] as Data[K] | undefined);
      } else {
        value = await this.#manager.update(session.id, key, fn, this.#ctx);
        // Mirror it, in the data and in the snapshot: the store already holds it, so the commit has nothing to write for it.
        const snapshot = this.#snapshot as Record<string, unknown>;
        if (value === undefined) delete snapshot[key];
        else Object.defineProperty(snapshot, key, { value: copyData(value), enumerable: true, writable: true, configurable: true });
      }
      if (value === undefined) delete data[key];
      else Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
      return value;
    });
  }

  /**
   * @internal Called once by the adapter when the response's headers are
   * about to go out. Null: nothing to do (the response may go at once).
   * Otherwise resolves when the session is saved or refreshed; rejects only
   * when a needed save failed (the adapter answers with its status instead).
   */
  commit(): Promise<void> | null {
    if (this.#committed) return null;
    this.#committed = true;
    if (this.#running !== null) return this.#running.then(() => this.#commitNow() ?? undefined);
    return this.#commitNow();
  }

  #commitNow(): Promise<void> | null {
    if (this.isModified()) return this.#write(false);
    if (this.#session !== null && this.#rolling) return this.#refreshQuietly(this.#session);
    return null;
  }

  /** A refresh nobody awaits: a session that died meanwhile needs none, and an outage must not fail a response that read fine. */
  async #refreshQuietly(session: Session<Data>): Promise<void> {
    try {
      await this.#manager.refresh(this.#ctx, session);
    } catch (error) {
      if (!isDeadCookieError(error)) this.#reporter.report(error);
    }
  }

  /** Stores what changed; `explicit`: save() was called (a fresh session is stored even empty). */
  async #write(explicit: boolean): Promise<void> {
    const manager = this.#manager;
    const ctx = this.#ctx;
    let session = this.#session;
    if (session === null) {
      if (!explicit && !this.isModified()) return;
      ctx.userId = this.#userId ?? undefined;
      ctx.tenantId = this.#tenantId ?? undefined;
      session = await manager.create(ctx);
      try {
        if (hasKeys(this.#data)) {
          session.data = this.#data;
          await manager.save(ctx, session);
        } else {
          await manager.setCookie(ctx, session);
        }
      } catch (error) {
        // Do not leave an empty session behind a save that was refused (bad data, an outage).
        await manager.destroy(null, session).catch(() => {});
        throw error;
      }
    } else {
      if (!this.isModified()) return;
      this.#applyTo(session);
      await manager.save(ctx, session);
    }
    this.#adopt(session);
  }

  /** Copies this request's fields onto the manager's Session before a write. */
  #applyTo(session: Session<Data>): void {
    session.data = this.#data;
    session.userId = this.#userId;
    session.tenantId = this.#tenantId;
  }

  /**
   * Takes `session` as what is stored now: its data is the new baseline (the
   * manager may have merged others' keys into it). If the application has
   * seen the data, it may hold a reference and go on changing it: watch it
   * from here.
   */
  #adopt(session: Session<Data>): void {
    this.#session = session;
    this.#data = session.data;
    this.#snapshot = this.#snapshot === undefined ? undefined : copyData(this.#data);
    this.#userId = this.#storedUserId = session.userId;
    this.#tenantId = this.#storedTenantId = session.tenantId;
  }

  /** Back to what was last stored (or read): the data as it was then, the user and tenant fields too. */
  #dropUnsaved(): void {
    if (this.#snapshot !== undefined) this.#data = copyData(this.#snapshot);
    this.#userId = this.#storedUserId;
    this.#tenantId = this.#storedTenantId;
  }

  /** Treats what the session holds now as settled: only later changes count for the end-of-request commit. */
  #settleAsSeen(): void {
    if (this.#snapshot !== undefined) this.#snapshot = copyData(this.#data);
    this.#storedUserId = this.#userId;
    this.#storedTenantId = this.#tenantId;
  }

  #becomeFresh(): void {
    this.#session = null;
    this.#data = {} as Partial<Data>;
    this.#snapshot = undefined;
    this.#userId = this.#storedUserId = null;
    this.#tenantId = this.#storedTenantId = null;
  }

  /** Runs lifecycle calls one at a time, in call order; a failed one does not stop the next. */
  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const previous = this.#running;
    const run = previous === null ? operation() : previous.then(operation);
    const tail: Promise<void> = run.then(
      () => {
        if (this.#running === tail) this.#running = null;
      },
      () => {
        if (this.#running === tail) this.#running = null;
      },
    );
    this.#running = tail;
    return run;
  }
}

/**
 * The RequestSession for a request: the cookie's session, or a fresh one
 * when there is no cookie, or it names no live session (absent, garbage,
 * tampered, expired, destroyed). Synchronous when the request carries no
 * cookie of ours. Rejects only when the store cannot answer (an outage,
 * overload, shutdown): the adapter answers those with 503.
 */
export function loadRequestSession<Data extends object>(
  manager: SessionManager<Data>,
  ctx: FrameworkContext,
  rolling: boolean,
  reporter: FailureReporter,
): RequestSession<Data> | Promise<RequestSession<Data>> {
  if (!ctx.carriesSessionCookie) return new RequestSession(manager, ctx, null, rolling, reporter);
  return manager.getSessionFromCookie(ctx).then(
    (session) => new RequestSession(manager, ctx, session, rolling, reporter),
    (error: unknown) => {
      if (isDeadCookieError(error)) return new RequestSession(manager, ctx, null, rolling, reporter);
      throw error;
    },
  );
}
