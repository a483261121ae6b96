/**
 * The SessionContext the Express middleware and the Fastify plugin build for
 * each request: the Cookie and User-Agent headers (copied at once), the
 * client address (read on first use: only create() needs it, and
 * frameworks compute it through their trust-proxy settings), and the
 * Set-Cookie values the manager issues, collected until the response's
 * headers go out.
 *
 * A class, one allocation per request, no closure. A request that writes
 * twice (a regenerate, then the end-of-request save; a destroy, then new
 * data) must send one cookie, not two that the browser would apply in
 * order: values for the same cookie (name, Path and Domain) replace each
 * other, and the last one issued wins.
 */
import type { SessionContext } from './context.ts';
import { appendReplacing } from './set-cookies.ts';

export abstract class FrameworkContext implements SessionContext {
  readonly cookieHeader: string | undefined;
  readonly userAgent: string | undefined;
  userId: string | undefined = undefined;
  tenantId: string | undefined = undefined;
  #ipAddress: string | undefined = undefined;
  #ipKnown = false;
  #setCookies: string[] | null = null;

  /** The Cookie header mentions the session cookie's name: only then is it worth asking the manager. */
  readonly carriesSessionCookie: boolean;

  constructor(cookieHeader: string | undefined, userAgent: string | undefined, cookieName: string) {
    this.cookieHeader = cookieHeader || undefined;
    this.userAgent = userAgent || undefined;
    this.carriesSessionCookie = this.cookieHeader !== undefined && this.cookieHeader.includes(cookieName);
  }

  /** The client address as the framework sees it (Express's req.ip, Fastify's request.ip: both honour their trust-proxy setting). */
  protected abstract clientAddress(): string | undefined;

  /**
   * The request's path and host name: clearCookie() (on destroy) also clears
   * same-named cookies an ancestor path or a sibling subdomain could have
   * planted. Getters, read only then.
   */
  abstract readonly requestPath: string | undefined;
  abstract readonly requestHost: string | undefined;

  get ipAddress(): string | undefined {
    if (!this.#ipKnown) {
      this.#ipAddress = this.clientAddress();
      this.#ipKnown = true;
    }
    return this.#ipAddress;
  }

  set ipAddress(value: string | undefined) {
    this.#ipAddress = value;
    this.#ipKnown = true;
  }

  appendSetCookie(value: string): void {
    appendReplacing((this.#setCookies ??= []), value);
  }

  /** The Set-Cookie values to send, one per cookie, in the order issued; null when none was issued. */
  get setCookies(): readonly string[] | null {
    return this.#setCookies;
  }
}

/** The Vary header value after adding Cookie to `current` (responses through the session layer depend on the cookie; scs does the same). */
export function varyWithCookie(current: string | number | readonly string[] | undefined): string | undefined {
  if (current === undefined || current === '') return 'Cookie';
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  for (const field of text.split(',')) {
    const name = field.trim().toLowerCase();
    if (name === 'cookie' || name === '*') return undefined; // already there
  }
  return `${text}, Cookie`;
}
