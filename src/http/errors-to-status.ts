/**
 * Which response an error becomes. One table for every adapter, so uWS and
 * node:http answer the same failure the same way.
 *
 * A session error the client caused (no/garbage/expired cookie, bad data)
 * gets its status and code. Anything else is a 500 with a generic body: the
 * detail goes to the log, never to the client (it may name paths, SQL or keys).
 */
import { SessionError, type SessionErrorCode } from '../errors.ts';
import { HttpError } from './http-error.ts';

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: string; readonly code?: string };
  /** True when the error is ours (5xx, unexpected): the adapter logs it. */
  readonly log: boolean;
}

/** Seconds a client should wait before retrying an overloaded or restarting server. */
export const RETRY_AFTER_SECONDS = 1;

const NO_HEADERS = Object.freeze({});
const RETRY_LATER = Object.freeze({ 'retry-after': String(RETRY_AFTER_SECONDS) });

const NOT_AUTHENTICATED = 'not authenticated';

/** Session errors a client can cause, and what they answer. Any code not here is a 500. */
const SESSION_STATUS: Partial<Record<SessionErrorCode, { status: number; error: string; headers: Record<string, string> }>> = {
  ERR_SESSION_INVALID_COOKIE: { status: 401, error: NOT_AUTHENTICATED, headers: NO_HEADERS },
  ERR_SESSION_NOT_FOUND: { status: 401, error: NOT_AUTHENTICATED, headers: NO_HEADERS },
  ERR_SESSION_EXPIRED: { status: 401, error: NOT_AUTHENTICATED, headers: NO_HEADERS },
  ERR_SESSION_DATA: { status: 400, error: 'session data rejected', headers: NO_HEADERS },
  ERR_SESSION_OVERLOADED: { status: 503, error: 'overloaded, retry later', headers: RETRY_LATER },
  // A closed manager means the server is shutting down: a retry reaches another (or the restarted) instance.
  ERR_SESSION_CLOSED: { status: 503, error: 'shutting down, retry later', headers: RETRY_LATER },
};

const INTERNAL: ErrorResponse = Object.freeze({
  status: 500,
  headers: NO_HEADERS,
  body: Object.freeze({ error: 'internal server error' }),
  log: true,
});

export function responseForError(error: unknown): ErrorResponse {
  if (error instanceof SessionError) {
    const known = SESSION_STATUS[error.code];
    if (!known) return INTERNAL;
    return { status: known.status, headers: known.headers, body: { error: known.error, code: error.code }, log: false };
  }
  if (error instanceof HttpError && error.expose) {
    const headers = error.status === 413 ? { connection: 'close' } : NO_HEADERS;
    return { status: error.status, headers, body: { error: error.message, code: error.code }, log: false };
  }
  return INTERNAL;
}
