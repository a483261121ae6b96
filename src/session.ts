/**
 * The Session object handed to applications, and the per-object state the
 * manager keeps on it to make save() a merge rather than a blind overwrite.
 */
import { decodeRecord, sameValue, type RecordFields } from './codec.ts';
import type { DataRecord, DefaultSessionData } from './session-data.ts';
import type { StoreKey } from './stores/store.ts';

/** What the manager remembers about the stored record this object came from. Not part of the public API. */
export interface SessionState {
  readonly storeKey: StoreKey;
  /** Record version this object last read or wrote: save() compares-and-swaps on it. */
  version: number;
  /** Plaintext record bytes as last read or written; decoded only when a save has to merge. */
  baseline: Buffer;
  readonly absoluteExpiresAt: number;
  /**
   * Expiry sealed in the cookie this client holds for the session (the
   * token it came with, or the last one issued through this object); null
   * when unknown (a session loaded by id). refresh() slides from it.
   */
  cookieExpiresAt: number | null;
}

let stateOf: (session: Session<object>) => SessionState | undefined;

export class Session<Data extends object = DefaultSessionData> {
  /** 43 base64url characters (32 random bytes). */
  readonly id: string;
  /**
   * The application's data: plain objects, arrays, strings, numbers,
   * booleans, null, Date, Uint8Array, bigint. Every key is optional: a
   * session starts empty. This object is this Session's own: changes reach
   * the store (and other requests) only through save().
   */
  data: Partial<Data>;
  userId: string | null;
  tenantId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  expiresAt: Date;
  readonly createdAt: Date;
  updatedAt: Date;
  #state: SessionState;

  static {
    stateOf = (session) => (#state in session ? session.#state : undefined);
  }

  /** @internal Sessions come from the manager (create, load, getSessionFromCookie, regenerate). */
  constructor(fields: RecordFields, expiresAt: number, state: SessionState) {
    this.id = fields.id;
    this.data = fields.data as Partial<Data>;
    this.userId = fields.userId;
    this.tenantId = fields.tenantId;
    this.ipAddress = fields.ipAddress;
    this.userAgent = fields.userAgent;
    this.expiresAt = new Date(expiresAt);
    this.createdAt = new Date(fields.createdAt);
    this.updatedAt = new Date(fields.updatedAt);
    this.#state = state;
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
}

/** @internal */
export function sessionState(session: Session<object>): SessionState | undefined {
  return stateOf(session);
}

/** What one session object changed since it was read: the keys it set (with their values) and the keys it removed. */
export interface SessionChanges {
  readonly set: ReadonlyMap<string, unknown>;
  readonly deleted: readonly string[];
  readonly fields: Partial<Pick<RecordFields, 'userId' | 'tenantId' | 'ipAddress' | 'userAgent'>>;
}

const META_FIELDS = ['userId', 'tenantId', 'ipAddress', 'userAgent'] as const;

/** Diffs the object against the record it was read from. */
export function changesOf(session: Session<object>, state: SessionState): SessionChanges {
  const base = decodeRecord(state.baseline);
  const baseData: DataRecord = base?.data ?? {};
  const data = session.data as DataRecord;
  const set = new Map<string, unknown>();
  for (const key of Object.keys(data)) {
    const value = data[key];
    if (!Object.prototype.hasOwnProperty.call(baseData, key) || !sameValue(baseData[key], value)) set.set(key, value);
  }
  const deleted = Object.keys(baseData).filter((key) => !Object.prototype.hasOwnProperty.call(data, key));
  const fields: Record<string, string | null> = {};
  for (const name of META_FIELDS) {
    if (!base || base[name] !== session[name]) fields[name] = session[name];
  }
  return { set, deleted, fields };
}

/** Applies one object's changes onto a fresher copy of the data (mutates and returns `data`). */
export function applyChanges(data: DataRecord, changes: SessionChanges): DataRecord {
  for (const key of changes.deleted) delete data[key];
  for (const [key, value] of changes.set) {
    Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return data;
}
