/**
 * The seed's "Complete Example" (login, profile, logout) plus a cart, as
 * adapter-neutral handlers: server.ts mounts them on uWS or on node:http.
 */
import type { ExchangeHandler, HttpExchange } from '../src/http/exchange.ts';
import { HttpError } from '../src/http/http-error.ts';
import { SessionError, type Session, type SessionManager } from '../src/index.ts';
import { authenticateUser, isUsername, requireSession, type User } from './auth.ts';
import { SAME_ORIGIN_HEADERS, sameOriginOnly } from './same-origin.ts';

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly handler: ExchangeHandler;
  /** Request headers the handler reads beyond the session's own (the uWS adapter copies only those it is told about). */
  readonly headers?: readonly string[];
}

export interface RouteOptions {
  /**
   * Origins besides the app's own whose pages may post to it (a front end
   * served from another origin you own), e.g. ['https://shop.example.com'].
   */
  readonly trustedOrigins?: readonly string[];
}

/** A cart is bounded like anything a client can grow. */
export const MAX_CART_ITEMS = 500;
const MAX_PRODUCT_ID = 64;

function isProductId(value: unknown): value is string | number {
  return (typeof value === 'string' && value.length > 0 && value.length <= MAX_PRODUCT_ID) || Number.isSafeInteger(value);
}

/** The session the request's cookie names, or null when there is none worth keeping. */
async function currentSession(manager: SessionManager, exchange: HttpExchange): Promise<Session | null> {
  if (exchange.ctx.cookieHeader === undefined) return null;
  try {
    return await manager.getSessionFromCookie(exchange.ctx);
  } catch (error) {
    if (error instanceof SessionError && error.code !== 'ERR_SESSION_OVERLOADED' && error.code !== 'ERR_SESSION_STORE' && error.code !== 'ERR_SESSION_CLOSED') return null;
    throw error;
  }
}

/** The session was destroyed or expired meanwhile (as opposed to a store that failed). */
/** The login's data, plus the cart a visitor gathered before it (the one thing a login carries over). */
export function cartKept(before: Record<string, unknown>, loggedIn: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(before.cart) ? { ...loggedIn, cart: before.cart } : { ...loggedIn };
}

export function isGone(error: unknown): boolean {
  return error instanceof SessionError && (error.code === 'ERR_SESSION_NOT_FOUND' || error.code === 'ERR_SESSION_EXPIRED');
}

/**
 * A new session holding `data` for the user named in exchange.ctx; save()
 * stores it and sets its cookie. Its id was never sent anywhere, so it needs
 * no regenerate.
 */
async function startSession(manager: SessionManager, exchange: HttpExchange, data: Record<string, unknown>): Promise<void> {
  const session = await manager.create(exchange.ctx);
  Object.assign(session.data, data);
  await manager.save(exchange.ctx, session);
}

/**
 * The request's own session, now logged in, under a fresh id: at a privilege
 * change, whoever knew the old id (session fixation) must hold a dead one.
 * regenerate() stores the data under the new id, removes the old one and
 * sets the new cookie.
 */
async function renewForLogin(manager: SessionManager, exchange: HttpExchange, session: Session, user: User, loggedIn: Record<string, unknown>): Promise<void> {
  session.userId = user.id;
  Object.assign(session.data, loggedIn);
  try {
    await manager.regenerate(exchange.ctx, session);
  } catch (error) {
    // Gone since we read it: a double-submitted form whose twin request regenerated it first, or a logout in
    // another tab. No reason to refuse a correct password: carry on in a new session holding the login and the
    // visitor's cart, and nothing else this request read of the old one: that session may have been ended on
    // purpose, and whatever else it held (a flag set by some other step) must not come back under a new id.
    if (!isGone(error)) throw error;
    await startSession(manager, exchange, cartKept(session.data, loggedIn));
  }
}

export function appRoutes(manager: SessionManager, options: RouteOptions = {}): Route[] {
  const login: ExchangeHandler = async (exchange) => {
    const { username, password } = await exchange.readFields();
    if (!isUsername(username) || typeof password !== 'string') {
      exchange.json(400, { error: 'username and password are required' });
      return;
    }
    const user = authenticateUser(username, password);
    if (!user) {
      exchange.json(401, { error: 'Invalid credentials' });
      return;
    }
    exchange.ctx.userId = user.id;
    const loggedIn = { user_id: user.id, username: user.username, roles: user.roles, login_time: new Date() };
    // Keep what a visitor gathered before logging in (their cart), unless it was someone else's session.
    const session = await currentSession(manager, exchange);
    const mine = session !== null && (session.data.user_id === undefined || session.data.user_id === user.id);
    if (session && !mine) await manager.destroy(exchange.ctx, session.id);
    if (session && mine) await renewForLogin(manager, exchange, session, user, loggedIn);
    else await startSession(manager, exchange, loggedIn);
    exchange.json(200, { message: 'Logged in successfully', user: { user_id: user.id, username: user.username, roles: user.roles } });
  };

  const profile = requireSession(manager, (exchange, session) => {
    // get() copies only the values read; the first use of session.data would copy all of it, the cart included.
    exchange.json(200, { user_id: session.get('user_id'), username: session.get('username'), login_time: session.get('login_time') });
  });

  const addCartItem = requireSession(manager, async (exchange, session) => {
    const { productId } = await exchange.readFields();
    if (!isProductId(productId)) {
      exchange.json(400, { error: `productId must be a non-empty string of at most ${MAX_PRODUCT_ID} characters, or an integer` });
      return;
    }
    // update() is an atomic read-modify-write: concurrent additions to one cart all land.
    // Given the request's ctx, the write also re-issues the cookie (new expiry, the version written).
    const items = await manager.update(session.id, 'cart', (current) => {
      const cart = Array.isArray(current) ? current : [];
      if (cart.length >= MAX_CART_ITEMS) throw new HttpError(409, 'ERR_HTTP_CLIENT', `the cart holds at most ${MAX_CART_ITEMS} items`);
      return [...cart, productId];
    }, exchange.ctx);
    exchange.json(200, { items });
  });

  const getCart = requireSession(manager, (exchange, session) => {
    const items = Array.isArray(session.data.cart) ? session.data.cart : [];
    exchange.json(200, { items });
  });

  const clearCart = requireSession(manager, async (exchange, session) => {
    await manager.delete(session.id, 'cart', exchange.ctx);
    exchange.json(200, { items: [] });
  });

  // No refresh before a logout: it would only issue a cookie the logout then clears.
  const logout = requireSession(
    manager,
    async (exchange, session) => {
      await manager.destroy(exchange.ctx, session.id);
      await manager.clearCookie(exchange.ctx);
      exchange.json(200, { message: 'Logged out successfully' });
    },
    { refresh: false },
  );

  // Every route that changes state, the login included (login CSRF), refuses cross-site requests: see same-origin.ts.
  const trusted = new Set(options.trustedOrigins ?? []);
  const changesState = (method: 'POST' | 'DELETE', path: string, handler: ExchangeHandler): Route => ({
    method,
    path,
    handler: sameOriginOnly(handler, trusted),
    headers: SAME_ORIGIN_HEADERS,
  });

  return [
    changesState('POST', '/login', login),
    { method: 'GET', path: '/profile', handler: profile },
    changesState('POST', '/cart/items', addCartItem),
    { method: 'GET', path: '/cart', handler: getCart },
    changesState('DELETE', '/cart', clearCart),
    changesState('POST', '/logout', logout),
  ];
}
