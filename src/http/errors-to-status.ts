/**
 * Which response an error becomes. One table for every adapter (uWS,
 * node:http, Express, Fastify), so they answer the same failure the same way,
 * and exported so an application's own error handler can do the same.
 *
 * A SessionError answers its own `status` (errors.ts, SESSION_ERROR_STATUS):
 * 401 for a client without a usable session, 400 for data that cannot be
 * stored, 503 with Retry-After for transient failures (store down or past
 * its deadline, contention, overload, shutdown). Client errors (4xx) and the
 * transient 503s carry the error's code; their bodies are fixed texts, never
 * the error's message (a store failure's message may name paths or SQL).
 * Anything else is a 500 with a generic body, and only the log sees it.
 */
import { SessionError } from '../errors.ts';
import { HttpError } from './http-error.ts';

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: string; readonly code?: string };
  /** True when the failure is ours or the infrastructure's (5xx): the adapter logs it. */
  readonly log: boolean;
}

/** Seconds a client should wait before retrying an overloaded, unavailable or restarting server. */
export const RETRY_AFTER_SECONDS = 1;

const NO_HEADERS = Object.freeze({});
const RETRY_LATER = Object.freeze({ 'retry-after': String(RETRY_AFTER_SECONDS) });

const NOT_AUTHENTICATED = 'not authenticated';

/** The fixed text each answered code shows the client. */
const CLIENT_TEXT: Readonly<Record<string, string>> = Object.freeze({
  ERR_SESSION_INVALID_COOKIE: NOT_AUTHENTICATED,
  ERR_SESSION_NOT_FOUND: NOT_AUTHENTICATED,
  ERR_SESSION_EXPIRED: NOT_AUTHENTICATED,
  ERR_SESSION_DATA: 'session data rejected',
  ERR_SESSION_STORE: 'session store unavailable, retry later',
  ERR_SESSION_CONFLICT: 'session busy, retry later',
  ERR_SESSION_OVERLOADED: 'overloaded, retry later',
  // A closed manager means the server is shutting down: a retry reaches another (or the restarted) instance.
  ERR_SESSION_CLOSED: 'shutting down, retry later',
});

/** Expected under load or during a shutdown: answered, but not worth a log line per request. */
const QUIET = new Set<string>(['ERR_SESSION_OVERLOADED', 'ERR_SESSION_CLOSED']);

const INTERNAL: ErrorResponse = Object.freeze({
  status: 500,
  headers: NO_HEADERS,
  body: Object.freeze({ error: 'internal server error' }),
  log: true,
});

/** The response for `error`: status, headers (Retry-After for transient failures), a body safe to show, and whether to log it. */
export function responseForError(error: unknown): ErrorResponse {
  if (error instanceof SessionError) {
    const text = CLIENT_TEXT[error.code];
    if (text === undefined) return INTERNAL;
    const status = error.status;
    return { status, headers: error.retryable ? RETRY_LATER : NO_HEADERS, body: { error: text, code: error.code }, log: status >= 500 && !QUIET.has(error.code) };
  }
  if (error instanceof HttpError && error.expose) {
    const headers = error.status === 413 ? { connection: 'close' } : NO_HEADERS;
    return { status: error.status, headers, body: { error: error.message, code: error.code }, log: false };
  }
  return INTERNAL;
}
