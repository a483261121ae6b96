/**
 * SessionContext: all the manager knows of a request. A plain object, so any
 * framework (uWS, node:http, Express, fastify, a test) can build one.
 * Adapters copy what they need from the request synchronously, before any
 * await, because some servers (uWS) recycle the request object.
 */
export interface SessionContext {
  /** The raw Cookie request header, if any. */
  cookieHeader?: string | undefined;
  /**
   * The first Cookie header line alone, from an adapter that reads it more
   * cheaply than the whole header (uWS: getHeader() gives a name's first
   * line; every line takes forEach()). peekSessionFromCookie tries it
   * first: a cookie there that answers from memory is the one the whole
   * header would give too, since candidates are tried in order and the
   * lines are joined in order. Otherwise cookieHeader decides.
   */
  readonly firstCookieLine?: string | undefined;
  /** The client address (from the socket, or X-Forwarded-For behind a trusted proxy). */
  ipAddress?: string | undefined;
  userAgent?: string | undefined;
  /** Set by the application after authentication; create() and regenerate() record it. */
  userId?: string | undefined;
  tenantId?: string | undefined;
  /**
   * The request's path and host, if the adapter knows them: clearCookie()
   * uses them to also clear same-named cookies a sibling subdomain or an
   * ancestor path could have planted (http/cookie.ts, clearingValues).
   */
  requestPath?: string | undefined;
  requestHost?: string | undefined;
  /** Receives each Set-Cookie header value the manager issues. */
  appendSetCookie(value: string): void;
}
