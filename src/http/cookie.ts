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
/** How many same-named cookies we try (browsers send one per matching path). Bounds work per request. */
const MAX_CANDIDATES = 4;

export class CookieWriter {
  readonly name: string;
  /** "; Path=/; HttpOnly; Secure; SameSite=Lax" */
  readonly #attributes: string;

  constructor(config: ResolvedConfig) {
    this.name = config.cookieName;
    const sample = serialize(config.cookieName, 'v', {
      path: config.cookiePath,
      ...(config.cookieDomain ? { domain: config.cookieDomain } : {}),
      httpOnly: config.cookieHttpOnly,
      secure: config.cookieSecure,
      sameSite: config.cookieSameSite.toLowerCase() as 'lax' | 'strict' | 'none',
    });
    this.#attributes = sample.slice(`${config.cookieName}=v`.length);
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
    return `${this.name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0${this.#attributes}`;
  }

  /**
   * Values of our cookie in a Cookie header, in order, at most four.
   * A hand-written scan: it only looks for one name, and never throws on
   * whatever bytes a client sends.
   */
  valuesIn(header: string): string[] {
    const values: string[] = [];
    const name = this.name;
    let at = 0;
    while (at < header.length && values.length < MAX_CANDIDATES) {
      let end = header.indexOf(';', at);
      if (end === -1) end = header.length;
      let start = at;
      while (start < end && (header.charCodeAt(start) === 32 || header.charCodeAt(start) === 9)) start++;
      if (header.startsWith(name, start)) {
        let eq = start + name.length;
        while (eq < end && header.charCodeAt(eq) === 32) eq++;
        if (header.charCodeAt(eq) === 61 /* = */) {
          let value = header.slice(eq + 1, end).trim();
          if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
          values.push(value);
        }
      }
      at = end + 1;
    }
    return values;
  }
}
