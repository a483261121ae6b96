/**
 * Cross-site request forgery defence for the example's state-changing routes
 * (POST and DELETE): a request that a browser sends on behalf of another
 * site is refused with 403 before its handler runs. The checks are those of
 * Go's net/http CrossOriginProtection (Go 1.25), from the headers browsers
 * add themselves and pages cannot forge:
 *
 * 1. Sec-Fetch-Site, sent by every current browser: 'same-origin', and
 *    'none' (the user typed the URL or used a bookmark), pass;
 *    'same-site' (a sibling subdomain) and 'cross-site' are refused.
 * 2. No Sec-Fetch-Site (an older browser): an Origin header must name this
 *    app, its host (and port) equal to the request's Host. The scheme is not
 *    compared: behind a proxy that terminates TLS the app cannot know its
 *    own. Origin 'null' (a sandboxed frame, a data: URL) is refused.
 * 3. Neither header: not a browser acting for a page (curl, a script, a
 *    server), which holds no victim's cookies; it passes. A browser sends at
 *    least one of the two on every cross-origin POST.
 * An origin listed in trustedOrigins (a front end of yours on another
 * origin) passes whatever Sec-Fetch-Site says.
 *
 * Why not rely on SameSite=Lax alone: it keeps the session cookie off
 * cross-site POSTs, but a forged login needs no cookie (it logs the victim
 * into the attacker's account: login CSRF), and a sibling subdomain is
 * "same-site", so Lax lets its posts through with the cookie.
 */
import type { ExchangeHandler } from '../src/http/exchange.ts';

/** Request headers the check reads beyond Host (the uWS adapter copies only those it is told about). */
export const SAME_ORIGIN_HEADERS: readonly string[] = ['sec-fetch-site', 'origin'];

/** Reads a request header (lower-case name), undefined when absent. */
export type HeaderReader = (name: string) => string | undefined;

/** Whether a request comes from this app's own pages (or from no browser at all). */
export function isSameOrigin(header: HeaderReader, trustedOrigins: ReadonlySet<string>): boolean {
  const origin = header('origin');
  switch (header('sec-fetch-site')) {
    case 'same-origin':
    case 'none':
      return true;
    case undefined:
      break;
    default:
      return origin !== undefined && trustedOrigins.has(origin);
  }
  if (origin === undefined) return true;
  if (trustedOrigins.has(origin)) return true;
  return hostOf(origin) === header('host')?.toLowerCase();
}

/** The answer to a refused request, the same on every server. */
export const CROSS_ORIGIN_REFUSED = Object.freeze({ error: 'cross-origin request refused', code: 'ERR_CROSS_ORIGIN' });

/** 'example.com:8443' from 'https://example.com:8443'; undefined for 'null' or anything that is not an origin. */
function hostOf(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.origin === origin.toLowerCase() ? url.host : undefined;
  } catch {
    return undefined;
  }
}

/** `handler`, behind the check: a cross-site request gets 403 and the handler never runs. */
export function sameOriginOnly(handler: ExchangeHandler, trustedOrigins: ReadonlySet<string>): ExchangeHandler {
  return (exchange) => {
    if (!isSameOrigin((name) => exchange.header(name), trustedOrigins)) {
      exchange.json(403, CROSS_ORIGIN_REFUSED);
      return;
    }
    return handler(exchange);
  };
}

/** `value` as an origin ('https://app.example.com'), or an explanation of why it is not one. */
export function parseOrigin(value: string): { origin: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { error: `${JSON.stringify(value)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `${JSON.stringify(value)} is not an http(s) origin` };
  if (url.origin !== value.replace(/\/$/, '').toLowerCase()) return { error: `${JSON.stringify(value)} is not an origin (scheme://host[:port], no path); did you mean ${url.origin}?` };
  return { origin: url.origin };
}
