/**
 * The write path: every change to a stored session, as a compare-and-swap
 * on its record version, with merging, retries, and the cookie re-issued.
 *
 * - Writers to one session in this process take turns (engine.writers), so
 *   retries are spent only against other processes and nodes.
 * - What is written is what was checked: data is copied and validated when
 *   the call is made (data/storable.ts), before any await, so a mutation
 *   during an in-flight write cannot reach the store unchecked.
 * - A save that lost the race re-reads and re-applies only the keys its
 *   object changed (set or deleted since it was read), so two requests that
 *   change different keys both land; the same key: last writer wins, whole.
 * - Nothing revives a destroyed session: every write is conditional on the
 *   version it read, and a missing record is final.
 */
import { storeKeyBinary } from '../crypto/aead.ts';
import { copyData, copyValue } from '../data/copy.ts';
import { prepareValue } from '../data/storable.ts';
import { SessionConflictError, SessionExpiredError, SessionNotFoundError, SessionStoreError } from '../errors.ts';
import type { SessionContext } from '../http/context.ts';
import { applyChanges, changesOf, dataChanges, mergeBaseOf, metaOf, Session, sessionDataToSave, sessionExpiresAtMs, sessionState, sessionWrote, type MergeBase, type MetaFields, type PendingSave, type SessionState } from '../session.ts';
import type { DataRecord } from '../session-data.ts';
import type { StoreKey } from '../stores/store.ts';
import { isLive, type OpenRecord } from '../tier/open-record.ts';
import { newSessionId, parseSessionId } from '../token.ts';
import { issueCookie } from './cookie-tokens.ts';
import { draftOf, metaOfRecord, prepareSessionData, recordMetaOf, sizingFieldsOf, type PreparedSessionData, type RecordMeta } from './drafts.ts';
import type { Engine } from './engine.ts';
import type { ReadPath } from './read-path.ts';

/** CAS attempts before ERR_SESSION_CONFLICT. In-process writers are serialized, so only other processes can use these up. */
export const MAX_WRITE_ATTEMPTS = 32;

/** What a change to one session's data did: whether anything changed, and what the caller gets back. */
export interface DataChange<T> {
  readonly changed: boolean;
  readonly result: T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Between CAS retries against other processes: none at first, then a short random wait that grows. */
export async function backoff(attempt: number): Promise<void> {
  if (attempt < 2) return;
  await sleep(Math.random() * Math.min(50, 2 ** (attempt - 2)));
}

export class WritePath {
  readonly #engine: Engine;
  readonly #read: ReadPath;

  constructor(engine: Engine, read: ReadPath) {
    this.#engine = engine;
    this.#read = read;
  }

  #expiryAt(now: number, absoluteExpiresAt: number): number {
    return Math.min(now + this.#engine.config.sessionLifetime, absoluteExpiresAt);
  }

  /** Inserts a record under a fresh id. A 256-bit id never collides in practice; the retry only makes insert-only total. */
  async insertFresh(meta: Omit<RecordMeta, 'id'>, data: DataRecord, expiresAt: number): Promise<{ key: StoreKey; record: OpenRecord; idBytes: Buffer }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { id, bytes } = newSessionId();
      const fields = { ...meta, id };
      const key = storeKeyBinary(this.#engine.ring.current, bytes);
      const record = await this.#engine.store.insert(key, draftOf(this.#engine, fields, prepareSessionData(this.#engine, data, fields), expiresAt));
      if (record) return { key, record, idBytes: bytes };
    }
    throw new SessionStoreError('session store refused three fresh ids in a row');
  }

  /** save(): see SessionManager.save. `sink` gets the re-issued cookie. */
  async save(sink: SessionContext | null, session: Session<object>): Promise<void> {
    const state = sessionState(session)!;
    const meta = metaOf(session);
    const fields = sizingFieldsOf(session.id, meta);
    // Checked and copied now, before any await: this is exactly what gets written.
    const prepared = prepareSessionData(this.#engine, sessionDataToSave(session), fields);
    // Saves of one object run in order. One called while another is in flight merges from what that one writes
    // (if it succeeds): see mergeBaseOf.
    const pending: PendingSave = { view: { data: prepared.value, userId: meta.userId, tenantId: meta.tenantId, ipAddress: meta.ipAddress, userAgent: meta.userAgent }, prior: state.pendingSave, baseAtCall: state.base, succeeded: false };
    state.pendingSave = pending;
    try {
      await this.#engine.writers.run(state.key, () => this.#saveInTurn(sink, session, state, pending, prepared, meta));
      pending.succeeded = true;
      pending.prior = null; // a chain of saves in flight holds only what it still needs
    } finally {
      if (state.pendingSave === pending) state.pendingSave = null;
    }
  }

  async #saveInTurn(sink: SessionContext | null, session: Session<object>, state: SessionState, pending: PendingSave, prepared: PreparedSessionData, meta: MetaFields): Promise<void> {
    await this.#assertNotExpired(session, state);
    const base = mergeBaseOf(pending.prior, pending.baseAtCall);
    let current: OpenRecord = state.base;
    let version = current.version;
    let data = prepared;
    let written: MetaFields = meta;
    let merged = false;
    if (base !== current) {
      // The object's record moved on from what this save was made from (an earlier save of it wrote): merge onto it.
      ({ data, written } = this.#merge(current, prepared, meta, base, session.id));
      merged = true;
    }
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const now = this.#engine.now();
      const expiresAt = this.#expiryAt(now, current.absoluteExpiresAt);
      const recordMeta = recordMetaOf(session.id, current.createdAt, now, current.absoluteExpiresAt, written);
      const stored = await this.#engine.store.update(state.key, version, draftOf(this.#engine, recordMeta, data, expiresAt));
      if (stored) {
        this.#afterSave(session, stored, merged, prepared.value);
        if (sink) await this.issueFor(sink, state.base.id, stored, state, state.key);
        return;
      }
      // Someone else wrote first (or destroyed it). Merge our changes onto what is there now.
      const fresh = await this.#engine.store.find(state.key, 0);
      if (!fresh) throw new SessionNotFoundError('session was destroyed while this save was in flight');
      if (!isLive(fresh, this.#engine.now())) throw new SessionExpiredError();
      current = fresh;
      ({ data, written } = this.#merge(fresh, prepared, meta, base, session.id));
      version = fresh.version;
      merged = true;
      await backoff(attempt);
    }
    throw new SessionConflictError();
  }

  /** This save's changes (from `base`) applied onto `onto`: the data, checked and measured again, and the session's own fields. */
  #merge(onto: OpenRecord, prepared: PreparedSessionData, meta: MetaFields, base: MergeBase, id: string): { data: PreparedSessionData; written: MetaFields } {
    const changes = changesOf(prepared.value, meta, base);
    const written = { ...metaOf(onto), ...changes.fields };
    return { data: prepareSessionData(this.#engine, applyChanges(onto.data, changes), sizingFieldsOf(id, written)), written };
  }

  /**
   * The object after its save: its record is the one stored. After a merge
   * its data becomes the stored data (others' keys included), with the
   * changes the application made while the save was in flight applied on
   * top: they belong to the next save, and must not be lost.
   */
  #afterSave(session: Session<object>, stored: OpenRecord, merged: boolean, written: DataRecord): void {
    if (!merged) {
      sessionWrote(session, stored, false);
      return;
    }
    const current = sessionDataToSave(session);
    const inFlight = current !== null && typeof current === 'object' && current !== written ? dataChanges(current as DataRecord, written) : null;
    sessionWrote(session, stored, true);
    if (inFlight && (inFlight.set.size > 0 || inFlight.deleted.length > 0)) {
      session.data = applyChanges(copyData(stored.data), { ...inFlight, fields: {} }) as Partial<object>;
    }
  }

  /**
   * A save must not revive a session past its lifetime. The object's own
   * expiry settles it in the usual case; only when it says "expired" is the
   * store asked, since another request may have extended it meanwhile.
   */
  async #assertNotExpired(session: Session<object>, state: SessionState): Promise<void> {
    const now = this.#engine.now();
    if (now >= state.base.absoluteExpiresAt) throw new SessionExpiredError();
    if (now < sessionExpiresAtMs(session)) return;
    const record = await this.#engine.store.find(state.key, 0);
    if (!record) throw new SessionNotFoundError();
    if (!isLive(record, now)) throw new SessionExpiredError();
  }

  /**
   * Read-modify-write of one session's data under the per-key writer lock,
   * retried on CAS conflicts. Read at least as new as the version the ctx's
   * cookie names (the client's own writes, made through any node). A change
   * that turns out to change nothing is confirmed against the shared store
   * before it is acknowledged: a copy cached up to staleMs ago may lack a key
   * another node has just set, and a delete of it must not be a silent no-op.
   */
  async modify<T>(id: string, sink: SessionContext | null, change: (data: DataRecord, current: OpenRecord) => DataChange<T> | Promise<DataChange<T>>): Promise<T> {
    const located = await this.#read.locateId(id);
    if (!located) throw new SessionNotFoundError();
    const key = located.key;
    let minVersion = sink ? this.#read.cookieVersionFor(sink, key) : 0;
    return this.#engine.writers.run(key, async () => {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const current = await this.#read.recordAt(key, minVersion);
        if (!current || current.id !== id) throw new SessionNotFoundError();
        const now = this.#engine.now();
        if (!isLive(current, now)) throw new SessionExpiredError();
        // A shallow copy: the change replaces or removes top-level keys; the values it keeps are the shared snapshot's, never mutated.
        const data: DataRecord = { ...current.data };
        const { changed, result } = await change(data, current);
        if (!changed) {
          // cachedAt 0: the cache backend, whose copy is the truth. Otherwise ask the store once for anything newer.
          if (current.cachedAt === 0 || minVersion > current.version) return result;
          minVersion = current.version + 1;
          continue;
        }
        const meta = metaOfRecord(current, now);
        const expiresAt = this.#expiryAt(now, current.absoluteExpiresAt);
        const stored = await this.#engine.store.update(key, current.version, draftOf(this.#engine, meta, prepareSessionData(this.#engine, data, meta), expiresAt));
        if (stored) {
          if (sink) await this.issueFor(sink, id, stored, undefined, key);
          return result;
        }
        minVersion = 0; // the refused write dropped the cached copy: the next read asks the store
        await backoff(attempt);
      }
      throw new SessionConflictError();
    });
  }

  /** update(): fn gets a private copy of the current value (it may mutate it) and returns the next one. */
  update<V>(id: string, key: string, fn: (current: V | undefined) => V | undefined | Promise<V | undefined>, sink: SessionContext | null): Promise<V | undefined> {
    return this.modify(id, sink, async (data) => {
      const had = Object.prototype.hasOwnProperty.call(data, key);
      const next = await fn(had ? copyValue(data[key] as V) : undefined);
      if (next === undefined) {
        if (!had) return { changed: false, result: undefined };
        delete data[key];
        return { changed: true, result: undefined };
      }
      // Checked now, and stored as the copy the check made: what the caller gets back is theirs to change.
      const stored = prepareValue(next, `data[${JSON.stringify(key)}]`, this.#engine.config.maxDataBytes).value;
      Object.defineProperty(data, key, { value: stored, enumerable: true, writable: true, configurable: true });
      return { changed: true, result: next };
    });
  }

  /**
   * regenerate(): the object is saved first (merging with concurrent
   * writers), then its record is copied under a fresh id, then the old
   * record is ended by a compare-and-swap at the version just saved: if a
   * destroy or another write came in between, the copy is undone and the
   * move retried (or ERR_SESSION_NOT_FOUND when the session is gone), so a
   * destroyed session never comes back under a new id.
   */
  async regenerate<Data extends object>(sink: SessionContext | null, session: Session<Data>): Promise<Session<Data>> {
    const state = sessionState(session)!;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      // No cookie for the old id: the new one below replaces it.
      await this.save(null, session);
      const moved = await this.#engine.writers.run(state.key, async () => {
        const base = state.base;
        const now = this.#engine.now();
        const expiresAt = this.#expiryAt(now, base.absoluteExpiresAt);
        const { id: _old, ...meta } = metaOfRecord(base);
        const fresh = await this.insertFresh({ ...meta, updatedAt: now }, base.data, expiresAt);
        // Ended from this instant: if the delete below fails, readers already see the old id as expired.
        const endedMeta = metaOfRecord(base, now);
        const ended = await this.#engine.store.update(state.key, base.version, draftOf(this.#engine, endedMeta, prepareSessionData(this.#engine, base.data, endedMeta), now));
        if (ended) {
          await this.#engine.store.delete(state.key);
          return fresh;
        }
        await this.#engine.store.delete(fresh.key);
        return null;
      });
      if (moved) {
        const renewed = this.#read.sessionOf<Data>(moved.key, moved.record, null);
        if (sink) await this.issueFor(sink, renewed.id, moved.record, sessionState(renewed), state.key);
        return renewed;
      }
      await backoff(attempt);
    }
    throw new SessionConflictError();
  }

  /**
   * Re-issues the cookie after a write: the record's expiry, and the version
   * just written. The cookie the request came with (under `previousKey`) now
   * has a successor: a refresh with it is not due again for touchThreshold.
   */
  async issueFor(sink: SessionContext, id: string, record: OpenRecord, state: SessionState | undefined, previousKey: StoreKey): Promise<void> {
    await issueCookie(this.#engine, sink, parseSessionId(id)!, record.expiresAt, record.version);
    if (state) state.cookieExpiresAt = record.expiresAt;
    if (state?.token) state.token.noteReissued(this.#engine.now());
    else this.#read.noteReissued(sink, previousKey);
  }
}
