/**
 * Every failure a caller can handle is a SessionError subclass with a stable
 * `code`. Callers branch on `code` (or `instanceof`), never on messages.
 * The underlying failure, when there is one, is kept as `cause`.
 */

export type SessionErrorCode =
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_NOT_FOUND'
  | 'ERR_SESSION_EXPIRED'
  | 'ERR_SESSION_KEY_NOT_FOUND'
  | 'ERR_SESSION_INVALID_COOKIE'
  | 'ERR_SESSION_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_DATA'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_CONFLICT'
  | 'ERR_SESSION_OVERLOADED'
  | 'ERR_SESSION_CLOSED'
  | 'ERR_SESSION_CONTEXT';

/**
 * The HTTP status each code calls for, and whether a client should retry.
 * Every SessionError carries these as `status` / `statusCode` (the
 * `http-errors` convention), so any framework's error handler can map it;
 * the built-in adapters answer from the same table (http/errors-to-status.ts).
 *
 * 401: the client holds no usable session. 400: the data offered cannot be
 * stored. 503 + Retry-After: a store outage, a missed deadline, contention,
 * overload or shutdown, all transient. 500: a bug or misconfiguration of the
 * application (config, an oversized cookie, a missing key it asked for).
 */
export const SESSION_ERROR_STATUS: Readonly<Record<SessionErrorCode, { readonly status: number; readonly retry: boolean }>> = Object.freeze({
  ERR_SESSION_CONFIG: { status: 500, retry: false },
  ERR_SESSION_NOT_FOUND: { status: 401, retry: false },
  ERR_SESSION_EXPIRED: { status: 401, retry: false },
  ERR_SESSION_KEY_NOT_FOUND: { status: 500, retry: false },
  ERR_SESSION_INVALID_COOKIE: { status: 401, retry: false },
  ERR_SESSION_COOKIE_TOO_LARGE: { status: 500, retry: false },
  ERR_SESSION_DATA: { status: 400, retry: false },
  ERR_SESSION_STORE: { status: 503, retry: true },
  ERR_SESSION_CONFLICT: { status: 503, retry: true },
  ERR_SESSION_OVERLOADED: { status: 503, retry: true },
  ERR_SESSION_CLOSED: { status: 503, retry: true },
  ERR_SESSION_CONTEXT: { status: 500, retry: false },
});

export class SessionError extends Error {
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** The HTTP status this failure calls for (see SESSION_ERROR_STATUS). */
  get status(): number {
    return SESSION_ERROR_STATUS[this.code].status;
  }

  /** Same as `status`, under the name Express's and Fastify's error handlers also read. */
  get statusCode(): number {
    return this.status;
  }

  /** True for transient failures (store down, overload, contention, shutdown): retrying later may succeed. */
  get retryable(): boolean {
    return SESSION_ERROR_STATUS[this.code].retry;
  }

  /** http-errors' convention: a message safe to show the client. Only client errors (4xx) are. */
  get expose(): boolean {
    return this.status < 500;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** An option given to createSessionManager is missing, mistyped or out of range. */
export class SessionConfigError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SESSION_CONFIG', message, options);
  }
}

/** No session has this id (never existed, destroyed, cleaned up, or not an id at all). */
export class SessionNotFoundError extends SessionError {
  constructor(message = 'session not found', options?: { cause?: unknown }) {
    super('ERR_SESSION_NOT_FOUND', message, options);
  }
}

/** The session exists but its idle or absolute lifetime has passed. */
export class SessionExpiredError extends SessionError {
  constructor(message = 'session expired', options?: { cause?: unknown }) {
    super('ERR_SESSION_EXPIRED', message, options);
  }
}

/** `get(id, key)` of a key the session does not hold. */
export class SessionKeyNotFoundError extends SessionError {
  readonly key: string;
  constructor(key: string) {
    super('ERR_SESSION_KEY_NOT_FOUND', `session has no key ${JSON.stringify(key)}`);
    this.key = key;
  }
}

/** The session cookie is absent, malformed, tampered, sealed with an unknown key, or expired. */
export class InvalidCookieError extends SessionError {
  constructor(message = 'invalid session cookie', options?: { cause?: unknown }) {
    super('ERR_SESSION_INVALID_COOKIE', message, options);
  }
}

/** The Set-Cookie header would exceed the 4096 bytes browsers are required to keep. */
export class CookieTooLargeError extends SessionError {
  readonly size: number;
  constructor(size: number, limit: number) {
    super('ERR_SESSION_COOKIE_TOO_LARGE', `Set-Cookie is ${size} bytes, over the ${limit}-byte limit`);
    this.size = size;
  }
}

/** A value that cannot be stored (function, symbol, class instance, cycle, too large). Nothing was written. */
export class SessionDataError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SESSION_DATA', message, options);
  }
}

/** The backing store failed (I/O error, database down, deadline missed). `cause` holds the system error. */
export class SessionStoreError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SESSION_STORE', message, options);
  }
}

/** A compare-and-swap write kept losing to concurrent writers until its retry budget ran out. */
export class SessionConflictError extends SessionError {
  constructor(message = 'session write kept conflicting with concurrent writers', options?: { cause?: unknown }) {
    super('ERR_SESSION_CONFLICT', message, options);
  }
}

/** A bounded queue is full; retry later (adapters answer 503 with Retry-After). */
export class SessionOverloadedError extends SessionError {
  constructor(message = 'session engine overloaded', options?: { cause?: unknown }) {
    super('ERR_SESSION_OVERLOADED', message, options);
  }
}

/** The manager (or one of its parts) was closed; no further calls are accepted. */
export class SessionClosedError extends SessionError {
  constructor(message = 'session manager is closed', options?: { cause?: unknown }) {
    super('ERR_SESSION_CLOSED', message, options);
  }
}

/** The request context handed to the manager cannot do what the call needs (e.g. it has no appendSetCookie). */
export class SessionContextError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SESSION_CONTEXT', message, options);
  }
}

/** Wraps an unknown failure from a store as a SessionStoreError, keeping SessionErrors as they are. */
export function asStoreError(operation: string, cause: unknown): SessionError {
  if (cause instanceof SessionError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new SessionStoreError(`session store ${operation} failed: ${detail}`, { cause });
}
