/**
 * The demo's user check and the auth middleware of the seed's example.
 */
import { createHash } from 'node:crypto';
import type { ExchangeHandler, HttpExchange } from '../src/http/exchange.ts';
import type { Session, SessionManager } from '../src/index.ts';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
}

/** The one password the demo accepts, for any username. A real app checks a password hash here. */
export const DEMO_PASSWORD = 'rockstar';
const MAX_USERNAME = 64;

/** The demo's user directory: everyone exists, with a stable id derived from the name. */
export function authenticateUser(username: string, password: string): User | null {
  if (password !== DEMO_PASSWORD) return null;
  const id = `u-${createHash('sha256').update(username).digest('hex').slice(0, 16)}`;
  return { id, username, roles: ['user'] };
}

/** Half of a UTF-16 surrogate pair on its own (JSON can spell one, "\ud800"): it has no UTF-8 form, so hashing it as text would turn it into U+FFFD. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * A username the demo can tell apart from every other: 1 to 64 UTF-16 units
 * of well-formed text. (Invalid UTF-8 bytes never get here: the body parser
 * refuses them with a 400.)
 */
export function isUsername(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_USERNAME && !LONE_SURROGATE.test(value);
}

export type SessionHandler = (exchange: HttpExchange, session: Session) => void | Promise<void>;

/**
 * The seed's authMiddleware: session from cookie, validity check, refresh on
 * activity, then the handler. No cookie, a garbage or tampered one, a
 * destroyed or expired session: the manager throws ERR_SESSION_INVALID_COOKIE,
 * _NOT_FOUND or _EXPIRED, which the adapter answers with 401.
 */
export function requireSession(manager: SessionManager, handler: SessionHandler, options: { refresh?: boolean } = {}): ExchangeHandler {
  const refresh = options.refresh ?? true;
  const seedMiddleware = async (exchange: HttpExchange): Promise<void> => {
    const session = await manager.getSessionFromCookie(exchange.ctx);
    // getSessionFromCookie already refuses expired sessions; this is the seed's explicit IsValid step
    // (it also catches a session destroyed by another request since it was read).
    // Passing the Session (not session.id) lets the manager skip re-hashing the id into its store key.
    if (!(await manager.isValid(session))) {
      exchange.json(401, { error: 'Invalid session' });
      return;
    }
    // Sliding expiry, decided from the cookie's own expiry: no write and no cookie until touchThreshold has passed.
    if (refresh) await manager.refresh(exchange.ctx, session);
    await handler(exchange, session);
  };
  return (exchange) => {
    // The cache hit, answered synchronously: a cookie this process verified before, naming a live session it
    // holds open (so isValid is true), with nothing for refresh to do. No I/O, no crypto, no promise. Anything
    // else takes the seed's three steps above.
    const cached = manager.peekSessionFromCookie(exchange.ctx, { refresh });
    if (cached !== undefined) return handler(exchange, cached);
    return seedMiddleware(exchange);
  };
}
