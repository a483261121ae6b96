/**
 * The request headers a uWS exchange keeps, read from every header line the
 * way node:http's IncomingMessage.headers reads them, so that both adapters
 * answer the same request the same way.
 *
 * uWS's getHeader() returns the first line of a name only. A second Cookie
 * line would be ignored, and behind a proxy that appends its own
 * X-Forwarded-For line (instead of extending the client's), the client's line
 * would be the one believed. So every line is visited once with
 * req.forEach(), and repeated names are combined by node's rules
 * (lib/_http_incoming.js, matchKnownFields and _addHeaderLine):
 * - cookie: the lines joined with '; ';
 * - the single-valued headers in FIRST_LINE_ONLY: the first line wins;
 * - every other header: the lines joined with ', '.
 * An empty line counts as present, as in node ('' then 'a' gives ', a').
 *
 * The cost is forEach's own: two strings and one call into JS per line,
 * about 80 ns a line, where getHeader() of an absent name is nearly free
 * (a bloom filter). Measured by scripts/measure-uws-headers.ts (Node 20, a
 * busy 2-core machine): 250 ns for host + cookie against 130 ns for the two
 * getHeader() calls it replaces, 440 against 145 ns for curl's 4 lines,
 * 1.45 against 0.16 µs for a browser's 15. There is no cheaper way to see
 * a second line: uWS.js offers no getHeaders(). So uws.ts copies a GET's
 * headers only on first use (or when its handler outlives uWS's callback),
 * and offers the manager the first Cookie line from getHeader() meanwhile.
 *
 * forEach() hands values over decoded as UTF-8, while node (and getHeader)
 * read header bytes as latin1. The two agree on ASCII, which is all that
 * browsers and proxies send in these headers; a value with other bytes is
 * turned back into its latin1 reading (exact for any valid UTF-8; an invalid
 * byte has already become U+FFFD by then, the one case where uWS and node
 * can still differ).
 */
import type { HttpRequest } from 'uWebSockets.js';

/** node:http drops repeated lines of these and keeps the first (and set-cookie, an array there, reads as its first). */
const FIRST_LINE_ONLY: ReadonlySet<string> = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'set-cookie',
  'user-agent',
]);

export class CopiedHeaders {
  cookie: string | undefined = undefined;
  userAgent: string | undefined = undefined;
  contentType: string | undefined = undefined;
  contentLength: string | undefined = undefined;
  host: string | undefined = undefined;
  /** Only gathered when trusted proxies are configured: otherwise nothing reads it. */
  forwardedFor: string | undefined = undefined;
  /** The headers listed in the adapter's `headers` option that were present. */
  extra: Map<string, string> | null = null;
}

/** What one forEach() pass fills in. Module state rather than a closure: no allocation per request. */
let target: CopiedHeaders = new CopiedHeaders();
let wantForwardedFor = false;
let wanted: ReadonlySet<string> | null = null;

function addHeaderLine(name: string, value: string): void {
  switch (name) {
    case 'cookie':
      target.cookie = target.cookie === undefined ? value : `${target.cookie}; ${value}`;
      return;
    case 'user-agent':
      if (target.userAgent === undefined) target.userAgent = value;
      break;
    case 'content-type':
      if (target.contentType === undefined) target.contentType = value;
      break;
    case 'content-length':
      if (target.contentLength === undefined) target.contentLength = value;
      break;
    case 'host':
      if (target.host === undefined) target.host = value;
      break;
    case 'x-forwarded-for':
      if (wantForwardedFor) target.forwardedFor = target.forwardedFor === undefined ? value : `${target.forwardedFor}, ${value}`;
      break;
  }
  if (wanted !== null && wanted.has(name)) {
    const extra = (target.extra ??= new Map());
    const earlier = extra.get(name);
    if (earlier === undefined) extra.set(name, value);
    else if (!FIRST_LINE_ONLY.has(name)) extra.set(name, `${earlier}${name === 'cookie' ? '; ' : ', '}${value}`);
  }
}

/**
 * Latin1 reading of a value forEach() decoded as UTF-8 (identity for ASCII,
 * the only case on the hot path). Buffer.byteLength is the cheap ASCII test:
 * about 20 ns whatever the length, where a regular expression scan of a
 * 130-character cookie takes 70 ns.
 */
function asLatin1(value: string | undefined): string | undefined {
  return value === undefined || Buffer.byteLength(value) === value.length ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * Copies the headers an exchange needs from `req`, synchronously: req is
 * stack-allocated in uWS and dead at the first await.
 */
export function copyRequestHeaders(req: HttpRequest, forwardedFor: boolean, extraNames: ReadonlySet<string> | null): CopiedHeaders {
  const headers = new CopiedHeaders();
  target = headers;
  wantForwardedFor = forwardedFor;
  wanted = extraNames;
  req.forEach(addHeaderLine);
  headers.cookie = asLatin1(headers.cookie);
  headers.userAgent = asLatin1(headers.userAgent);
  headers.contentType = asLatin1(headers.contentType);
  headers.contentLength = asLatin1(headers.contentLength);
  headers.host = asLatin1(headers.host);
  headers.forwardedFor = asLatin1(headers.forwardedFor);
  if (headers.extra !== null) for (const [name, value] of headers.extra) headers.extra.set(name, asLatin1(value) as string);
  return headers;
}
