/**
 * Set-Cookie building and Cookie header reading for the session cookie.
 *
 * The attributes that never change (Path, Domain, HttpOnly, Secure,
 * SameSite) are serialized once by the `cookie` package at start; each
 * response only adds the value, Expires and Max-Age.
 */
import { serialize } from 'cookie';
import { CookieTooLargeError } from '../errors.ts';
import type { ResolvedConfig } from '../config.ts';

/** RFC 6265 section 6.1: browsers keep cookies of at least 4096 bytes (name, value and attributes). */
export const MAX_SET_COOKIE_BYTES = 4096;
/**
 * How many same-named cookie values valuesIn() returns. A browser sends one
 * per (domain, path) it holds that matches the request, longest path first,
 * so cookies planted by a sibling subdomain (Domain=<parent>) for a few
 * paths come before ours: the bound must leave room for them. It also
 * bounds the work a request can cause.
 */
export const MAX_COOKIE_CANDIDATES = 16;
/** At most this many clearing Set-Cookie values per response... */
export const MAX_CLEARING_VALUES = 16;
/** ...and this many bytes of them: proxies buffer response headers in 4-8 KiB (nginx's proxy_buffer_size), and the rest of the response needs room. */
export const MAX_CLEARING_BYTES = 2048;
/** A request path we derive clearing paths from: what a cookie Path may hold, and not absurdly long. */
const REQUEST_PATH = /^\/[\x21-\x3a\x3c-\x7e]{0,1023}$/;
/** A DNS host name (no IP literal: cookies for an IP are host-only anyway). */
const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';

export class CookieWriter {
  readonly name: string;
  /** "; Path=/; HttpOnly; Secure; SameSite=Lax" */
  readonly #attributes: string;
  /** "; HttpOnly; Secure; SameSite=Lax": the flags without the scope, for clearing values of other scopes. */
  readonly #flags: string;
  readonly #path: string;
  /** The configured Domain as browsers store it: lower case, no leading dot. '' for host-only. */
  readonly #domain: string;
  /** __Host- cookies have exactly one scope (host-only, Path=/): nothing else can exist to be cleared. */
  readonly #hostPrefixed: boolean;

  constructor(config: ResolvedConfig) {
    this.name = config.cookieName;
    const flags = {
      httpOnly: config.cookieHttpOnly,
      secure: config.cookieSecure,
      sameSite: config.cookieSameSite.toLowerCase() as 'lax' | 'strict' | 'none',
    };
    const sample = serialize(config.cookieName, 'v', {
      path: config.cookiePath,
      ...(config.cookieDomain ? { domain: config.cookieDomain } : {}),
      ...flags,
    });
    this.#attributes = sample.slice(`${config.cookieName}=v`.length);
    this.#flags = serialize(config.cookieName, 'v', flags).slice(`${config.cookieName}=v`.length);
    this.#path = config.cookiePath;
    this.#domain = config.cookieDomain.replace(/^\./, '').toLowerCase();
    this.#hostPrefixed = config.cookieName.toLowerCase().startsWith('__host-');
  }

  /** The Set-Cookie value carrying `token` until `expiresAt` (ms). Throws CookieTooLargeError past 4096 bytes. */
  build(token: string, expiresAt: number, now: number): string {
    const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
    const header = `${this.name}=${token}; Expires=${new Date(expiresAt).toUTCString()}; Max-Age=${maxAge}${this.#attributes}`;
    // Header values here are ASCII (token is base64url, attributes validated), so length is bytes.
    if (header.length > MAX_SET_COOKIE_BYTES) throw new CookieTooLargeError(header.length, MAX_SET_COOKIE_BYTES);
    return header;
  }

  /** The Set-Cookie value that makes the browser drop the cookie. */
  clearing(): string {
    return `${this.name}=; Expires=${EPOCH}; Max-Age=0${this.#attributes}`;
  }

  /**
   * Every clearing Set-Cookie value that could help, the configured one
   * first (the same as clearing()).
   *
   * A browser deletes a stored cookie only when a Set-Cookie names its
   * exact scope: the same name, the same Domain (or none, for a host-only
   * cookie) and the same Path. The Cookie header says nothing about a
   * planted cookie's scope, so this covers the scopes a planted cookie sent
   * with this request can have: host-only and Domain=<each parent> of the
   * configured domain and of `requestHost`, times Path=/ , the configured
   * path and every ancestor of `requestPath` ('/a/b' gives '/a/b', '/a/',
   * '/a', '/'). A Domain the browser does not accept for the response's host
   * (a public suffix, a foreign name) is ignored by it, harmlessly.
   *
   * Bounded: at most MAX_CLEARING_VALUES values and MAX_CLEARING_BYTES
   * bytes, in order of likely use (root path first, then the request's own
   * path up to the root). Arguments that are not a path or a host name are
   * ignored (they come from the request). A __Host- cookie can only exist in
   * its one scope, so for it this is [clearing()] alone.
   *
   * Send these before any Set-Cookie that sets the cookie again in the same
   * response: the browser applies them in order.
   */
  clearingValues(requestPath?: string, requestHost?: string): string[] {
    const values = [this.clearing()];
    if (this.#hostPrefixed) return values;
    // The request host itself as a Domain: only it or its own subdomains can have set that, so it comes last.
    const [requestHostItself = '', ...requestHostParents] = selfAndParents(hostName(requestHost));
    const domains = new Set(['', ...selfAndParents(this.#domain), ...requestHostParents, requestHostItself].filter((d, i) => i === 0 || d !== ''));
    const paths = new Set(['/', this.#path, ...pathAncestors(this.#path), ...pathAncestors(requestPathOf(requestPath))]);
    const done = new Set([`${this.#domain} ${this.#path}`]);
    let bytes = values[0]!.length;
    for (const path of paths) {
      for (const domain of domains) {
        if (done.has(`${domain} ${path}`)) continue;
        const value = `${this.name}=; Expires=${EPOCH}; Max-Age=0${domain ? `; Domain=${domain}` : ''}; Path=${path}${this.#flags}`;
        if (values.length >= MAX_CLEARING_VALUES || bytes + value.length > MAX_CLEARING_BYTES) return values;
        done.add(`${domain} ${path}`);
        values.push(value);
        bytes += value.length;
      }
    }
    return values;
  }

  /**
   * Values of our cookie in a Cookie header, in order, at most
   * MAX_COOKIE_CANDIDATES; empty values are skipped (they cannot be a
   * token, and must not use up the bound). A hand-written scan: it only
   * looks for one name, and never throws on whatever bytes a client sends.
   */
  valuesIn(header: string): string[] {
    const values: string[] = [];
    const name = this.name;
    let at = 0;
    while (at < header.length && values.length < MAX_COOKIE_CANDIDATES) {
      let end = header.indexOf(';', at);
      if (end === -1) end = header.length;
      let start = at;
      while (start < end && (header.charCodeAt(start) === 32 || header.charCodeAt(start) === 9)) start++;
      if (header.startsWith(name, start)) {
        let eq = start + name.length;
        while (eq < end && header.charCodeAt(eq) === 32) eq++;
        if (header.charCodeAt(eq) === 61 /* = */) {
          // The value's bounds, found in place (this runs on every request): spaces and tabs around it, then one pair of quotes.
          let from = eq + 1;
          let to = end;
          while (from < to && isSpaceOrTab(header.charCodeAt(from))) from++;
          while (to > from && isSpaceOrTab(header.charCodeAt(to - 1))) to--;
          if (to - from >= 2 && header.charCodeAt(from) === 34 && header.charCodeAt(to - 1) === 34) {
            from++;
            to--;
          }
          if (to > from) values.push(header.slice(from, to));
        }
      }
      at = end + 1;
    }
    return values;
  }
}

function isSpaceOrTab(code: number): boolean {
  return code === 32 || code === 9;
}

/** The path part of a request target ('/a/b?x' gives '/a/b'), or '' when it is not one a cookie Path could name. */
function requestPathOf(target: string | undefined): string {
  if (typeof target !== 'string') return '';
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return REQUEST_PATH.test(path) ? path : '';
}

/**
 * The cookie paths that path-match `path` (RFC 6265 section 5.1.4), longest
 * first: '/a/b' gives '/a/b', '/a/', '/a' (and '/', which callers add
 * first). A cookie Path is stored as written, so '/a' and '/a/' are two.
 */
function pathAncestors(path: string): string[] {
  if (path === '') return [];
  const out: string[] = [path];
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    out.push(path.slice(0, slash + 1), path.slice(0, slash));
  }
  return out;
}

/** A request's Host as a cookie domain: lower case, without port or trailing dot; '' when it is not a DNS name. */
function hostName(host: string | undefined): string {
  if (typeof host !== 'string' || host.length > 260) return '';
  const name = host.toLowerCase().replace(/:\d{1,5}$/, '').replace(/\.$/, '');
  // An IPv4 literal passes the DNS pattern's charset but must end in a letter label; IPv6 has brackets.
  return HOST_NAME.test(name) ? name : '';
}

/** 'a.b.example.com' gives 'a.b.example.com', 'b.example.com', 'example.com': single labels (TLDs) are never a cookie Domain. */
function selfAndParents(domain: string): string[] {
  if (domain === '') return [];
  const labels = domain.split('.');
  const out: string[] = [];
  for (let i = 0; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
  return out;
}
