/**
 * The Session object handed to applications, and the per-object state the
 * manager keeps on it to make save() a merge rather than a blind overwrite.
 *
 * A Session is built on the open record it was read from (or last wrote):
 * that record is shared with the in-process tier and never changes, so it is
 * both this object's merge baseline and the source of its data. `data` is a
 * private copy made on first use (data/copy.ts): two Sessions never share
 * mutable state, and a change reaches the store only through save(). The
 * Date fields are made on first use too: a request that never reads them
 * never allocates them.
 */
import { inspect } from 'node:util';
import { sameValue, type RecordFields } from './codec.ts';
import { copyData, copyValue } from './data/copy.ts';
import type { DataRecord, DefaultSessionData } from './session-data.ts';
import type { StoreKey } from './stores/store.ts';
import type { OpenRecord } from './tier/open-record.ts';
import type { TokenClaims } from './tier/token-map.ts';

/** What the manager remembers about the stored record this object came from. Not part of the public API. */
export interface SessionState {
  readonly key: StoreKey;
  /** The record as last read or written through this object: version (for compare-and-swap), merge baseline, absolute lifetime. */
  base: OpenRecord;
  /**
   * Expiry sealed in the cookie this client holds for the session (the
   * token it came with, or the last one issued through this object); null
   * when unknown (a session loaded by id). refresh() slides from it.
   */
  cookieExpiresAt: number | null;
  /** What the cookie this Session came with proved (null for a session loaded by id or created). */
  readonly token: TokenClaims | null;
  /** The latest save() of this object still in flight: a save called meanwhile merges from what it writes. */
  pendingSave: PendingSave | null;
}

/** What a save merges its object's changes from: data and the session's own fields. */
export interface MergeBase extends MetaFields {
  readonly data: DataRecord;
}

/** One save() in flight, as the next save of the same object sees it. */
export interface PendingSave {
  /** What it writes, in the object's own terms (before any merge with others' writes). */
  readonly view: MergeBase;
  /** The save of this object before it that was still in flight when it was called (dropped once this one succeeds: nothing looks past it then). */
  prior: PendingSave | null;
  /** The record the object held when it was called. */
  readonly baseAtCall: OpenRecord;
  succeeded: boolean;
}

/**
 * What a save merges from, once every save of the object called before it
 * has settled (they run in order): what the latest of them that succeeded
 * wrote, as the object saw it, or the record the object held when this save
 * was called. Changes are the difference from it: a key deleted between two
 * saves is a deletion, and a key another writer added, which the object
 * never saw, is not.
 */
export function mergeBaseOf(prior: PendingSave | null, baseAtCall: OpenRecord): MergeBase {
  for (let save = prior; save !== null; save = save.prior) if (save.succeeded) return save.view;
  return baseAtCall;
}

/** The manager's access to a Session's private state (assigned in the class's static block; not part of the public API). */
interface SessionInternals {
  state(session: Session<object>): SessionState | undefined;
  /** The expiry in ms, without making a Date. */
  expiresAtMs(session: Session<object>): number;
  /** What a save writes: the application's data if it has read or replaced it (whatever it is now), else the stored snapshot. */
  dataToSave(session: Session<object>): unknown;
  /** After a write: the record now stored. `mergedData`: the stored data differs from the object's own (a merge), so its copy is dropped. */
  wrote(session: Session<object>, record: OpenRecord, mergedData: boolean): void;
}

let internals: SessionInternals;

export class Session<Data extends object = DefaultSessionData> {
  /** 43 base64url characters (32 random bytes). */
  readonly id: string;
  userId: string | null;
  tenantId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  #state: SessionState;
  #data: Partial<Data> | undefined;
  /** The application has read (so may have changed) or replaced `data`. */
  #dataTouched: boolean;
  #expiresAtMs: number;
  #updatedAtMs: number;
  #expiresAt: Date | undefined;
  #createdAt: Date | undefined;
  #updatedAt: Date | undefined;

  static {
    internals = {
      state: (session) => (#state in session ? session.#state : undefined),
      expiresAtMs: (session) => session.#expiresAtMs,
      dataToSave: (session) => (session.#dataTouched ? session.#data : session.#state.base.data),
      wrote: (session, record, mergedData) => session.#wrote(record, mergedData),
    };
  }

  /** @internal Sessions come from the manager (create, load, getSessionFromCookie, regenerate). */
  constructor(key: StoreKey, record: OpenRecord, token: TokenClaims | null) {
    this.id = record.id;
    this.userId = record.userId;
    this.tenantId = record.tenantId;
    this.ipAddress = record.ipAddress;
    this.userAgent = record.userAgent;
    this.#state = { key, base: record, cookieExpiresAt: token === null ? null : token.expiresAt, token, pendingSave: null };
    this.#data = undefined;
    this.#dataTouched = false;
    this.#expiresAtMs = record.expiresAt;
    this.#updatedAtMs = record.updatedAt;
    this.#expiresAt = undefined;
    this.#createdAt = undefined;
    this.#updatedAt = undefined;
  }

  /**
   * The application's data: plain objects, arrays, strings, numbers,
   * booleans, null, Date, Uint8Array, bigint. Every key is optional: a
   * session starts empty. This object is this Session's own: changes reach
   * the store (and other requests) only through save().
   */
  get data(): Partial<Data> {
    if (!this.#dataTouched) {
      this.#data = copyData(this.#state.base.data) as Partial<Data>;
      this.#dataTouched = true;
    }
    return this.#data as Partial<Data>;
  }

  set data(value: Partial<Data>) {
    this.#data = value;
    this.#dataTouched = true;
  }

  /**
   * One key of the data, as a private copy of that value alone: for a
   * handler that reads a few keys, where the first use of `data` copies all
   * of it. It reads what `data` holds once `data` has been used (unsaved
   * changes included), the stored value before. Changing what it returns
   * changes nothing: assign through `data` for that. undefined for a key
   * the data does not have (inherited properties included).
   */
  get<K extends keyof Data & string>(key: K): Partial<Data>[K] | undefined {
    const source: unknown = this.#dataTouched ? this.#data : this.#state.base.data;
    if (typeof source !== 'object' || source === null || !Object.hasOwn(source, key)) return undefined;
    return copyValue((source as Partial<Data>)[key]);
  }

  /** When the session ends unless it is used (idle expiry, never past the absolute lifetime). */
  get expiresAt(): Date {
    return (this.#expiresAt ??= new Date(this.#expiresAtMs));
  }

  set expiresAt(value: Date) {
    this.#expiresAtMs = value.getTime();
    this.#expiresAt = value;
  }

  get createdAt(): Date {
    return (this.#createdAt ??= new Date(this.#state.base.createdAt));
  }

  get updatedAt(): Date {
    return (this.#updatedAt ??= new Date(this.#updatedAtMs));
  }

  set updatedAt(value: Date) {
    this.#updatedAtMs = value.getTime();
    this.#updatedAt = value;
  }

  #wrote(record: OpenRecord, mergedData: boolean): void {
    this.#state.base = record;
    this.#expiresAtMs = record.expiresAt;
    this.#expiresAt = undefined;
    this.#updatedAtMs = record.updatedAt;
    this.#updatedAt = undefined;
    this.userId = record.userId;
    this.tenantId = record.tenantId;
    this.ipAddress = record.ipAddress;
    this.userAgent = record.userAgent;
    if (mergedData) {
      this.#data = undefined;
      this.#dataTouched = false;
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      data: this.data,
      userId: this.userId,
      tenantId: this.tenantId,
      ipAddress: this.ipAddress,
      userAgent: this.userAgent,
      expiresAt: this.expiresAt,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }

  [inspect.custom](depth: number, options: object): string {
    return `Session ${inspect(this.toJSON(), { ...options, depth: depth - 1 })}`;
  }
}

/** @internal */
export function sessionState(session: Session<object>): SessionState | undefined {
  return internals.state(session);
}

/** @internal */
export function sessionExpiresAtMs(session: Session<object>): number {
  return internals.expiresAtMs(session);
}

/** @internal */
export function sessionDataToSave(session: Session<object>): unknown {
  return internals.dataToSave(session);
}

/** @internal */
export function sessionWrote(session: Session<object>, record: OpenRecord, mergedData: boolean): void {
  internals.wrote(session, record, mergedData);
}

/** What one session object changed since it was read: the keys it set (with their values) and the keys it removed. */
export interface SessionChanges {
  readonly set: ReadonlyMap<string, unknown>;
  readonly deleted: readonly string[];
  readonly fields: Partial<Pick<RecordFields, 'userId' | 'tenantId' | 'ipAddress' | 'userAgent'>>;
}

const META_FIELDS = ['userId', 'tenantId', 'ipAddress', 'userAgent'] as const;

export type MetaFields = Pick<RecordFields, (typeof META_FIELDS)[number]>;

/** The meta fields of a Session object as they are now. */
export function metaOf(session: MetaFields): MetaFields {
  return { userId: session.userId, tenantId: session.tenantId, ipAddress: session.ipAddress, userAgent: session.userAgent };
}

/** The keys `data` set (with their values) or removed, compared with `baseData`. */
export function dataChanges(data: DataRecord, baseData: DataRecord): Pick<SessionChanges, 'set' | 'deleted'> {
  const set = new Map<string, unknown>();
  for (const key of Object.keys(data)) {
    const value = data[key];
    if (!Object.prototype.hasOwnProperty.call(baseData, key) || !sameValue(baseData[key], value)) set.set(key, value);
  }
  const deleted = Object.keys(baseData).filter((key) => !Object.prototype.hasOwnProperty.call(data, key));
  return { set, deleted };
}

/** Diffs `data` and `meta` (what a save is writing) against the record it was read from. */
export function changesOf(data: DataRecord, meta: MetaFields, base: MergeBase): SessionChanges {
  const fields: Record<string, string | null> = {};
  for (const name of META_FIELDS) {
    if (base[name] !== meta[name]) fields[name] = meta[name];
  }
  return { ...dataChanges(data, base.data), fields };
}

/** One object's changes on top of a fresher record's data: a new object (the fresher snapshot is shared and is not touched). */
export function applyChanges(fresher: DataRecord, changes: SessionChanges): DataRecord {
  const data: DataRecord = { ...fresher };
  for (const key of changes.deleted) delete data[key];
  for (const [key, value] of changes.set) {
    Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return data;
}
