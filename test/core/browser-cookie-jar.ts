/**
 * A browser's cookie store, reduced to the rules that decide whether a
 * Set-Cookie replaces or deletes a stored cookie and which cookies a request
 * carries (RFC 6265 sections 5.1.3, 5.1.4, 5.3, 5.4; the name prefixes of
 * RFC 6265bis 4.1.3, compared case-insensitively). Enough to test what a
 * clearing Set-Cookie really removes; not a general cookie parser.
 */

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** Lower case, no leading dot. */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
  readonly secure: boolean;
}

/** Public suffixes this jar knows: a Set-Cookie with one of them as Domain is ignored, as browsers do with the real list. */
const PUBLIC_SUFFIXES = new Set(['com', 'org', 'net', 'uk', 'co.uk', 'test', 'localhost']);

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (host.endsWith(`.${domain}`) && !/^\d+\.\d+\.\d+\.\d+$/.test(host));
}

export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function defaultPath(requestPath: string): string {
  const slash = requestPath.lastIndexOf('/');
  return slash <= 0 ? '/' : requestPath.slice(0, slash);
}

export interface Origin {
  readonly host: string;
  readonly path: string;
  readonly secure: boolean;
}

export class BrowserCookieJar {
  readonly #cookies: StoredCookie[] = [];

  /** Applies one Set-Cookie received from `origin`. Returns false when the browser would ignore it. */
  receive(origin: Origin, header: string): boolean {
    const [pair = '', ...attributeTexts] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return false;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let domainAttribute: string | undefined;
    let pathAttribute: string | undefined;
    let maxAge: number | undefined;
    let expired = false;
    let secure = false;
    for (const text of attributeTexts) {
      const [key = '', ...rest] = text.split('=');
      const attribute = key.trim().toLowerCase();
      const attributeValue = rest.join('=').trim();
      if (attribute === 'domain') domainAttribute = attributeValue.replace(/^\./, '').toLowerCase();
      else if (attribute === 'path') pathAttribute = attributeValue.startsWith('/') ? attributeValue : undefined;
      else if (attribute === 'max-age') maxAge = Number(attributeValue);
      else if (attribute === 'expires') expired = Date.parse(attributeValue) <= Date.now();
      else if (attribute === 'secure') secure = true;
    }
    const host = origin.host.toLowerCase();
    let domain = host;
    let hostOnly = true;
    if (domainAttribute !== undefined && domainAttribute !== '') {
      if (PUBLIC_SUFFIXES.has(domainAttribute) || !domainMatches(host, domainAttribute)) return false;
      domain = domainAttribute;
      hostOnly = false;
    }
    const path = pathAttribute ?? defaultPath(origin.path);
    if (secure && !origin.secure) return false;
    const lower = name.toLowerCase();
    if ((lower.startsWith('__secure-') || lower.startsWith('__host-') || lower.startsWith('__http-')) && !secure) return false;
    if (lower.startsWith('__host-') && (domainAttribute !== undefined || path !== '/')) return false;
    const existing = this.#cookies.findIndex((c) => c.name === name && c.domain === domain && c.hostOnly === hostOnly && c.path === path);
    if (existing !== -1) this.#cookies.splice(existing, 1);
    const deleting = maxAge !== undefined ? maxAge <= 0 : expired;
    if (!deleting) this.#cookies.push({ name, value, domain, hostOnly, path, secure });
    return true;
  }

  /** The Cookie header a request to `origin` carries: longest paths first (ties keep storage order, i.e. creation). */
  cookieHeader(origin: Origin): string {
    const host = origin.host.toLowerCase();
    return this.#cookies
      .filter((c) => (c.hostOnly ? c.domain === host : domainMatches(host, c.domain)))
      .filter((c) => pathMatches(origin.path, c.path) && (!c.secure || origin.secure))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Stored cookies named `name`, as "domain path" (host-only ones as "host-only path"). */
  scopesOf(name: string): string[] {
    return this.#cookies.filter((c) => c.name === name).map((c) => `${c.hostOnly ? 'host-only' : c.domain} ${c.path}`);
  }
}
