/** What the manager takes from a request context, checked where it is used. */
import { SessionContextError } from '../errors.ts';
import type { SessionContext } from '../http/context.ts';

/** Longest strings kept from a request context: a client must not be able to grow records without bound. */
const MAX_CONTEXT_STRING = 512;

/**
 * Where a call's Set-Cookie goes. `required`: the call exists to set a
 * cookie (setCookie, clearCookie). Otherwise a null or undefined ctx means a
 * write made outside any request: nothing is issued. A ctx that cannot take
 * a cookie is the caller's bug, reported before anything is written.
 */
export function cookieSink(ctx: SessionContext | null | undefined, call: string, required: boolean): SessionContext | null {
  if (ctx === undefined || ctx === null) {
    if (required) throw new SessionContextError(`${call}: ctx must be a SessionContext with appendSetCookie; received ${ctx}`);
    return null;
  }
  if (typeof ctx !== 'object' || typeof ctx.appendSetCookie !== 'function') {
    throw new SessionContextError(`${call}: ctx.appendSetCookie must be a function (a SessionContext from an adapter, or { cookieHeader, appendSetCookie(value) {…} })`);
  }
  return ctx;
}

/** A context field worth recording (user, tenant, address, agent), bounded in length; null when absent. */
export function contextString(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return value.length > MAX_CONTEXT_STRING ? value.slice(0, MAX_CONTEXT_STRING) : value;
}
