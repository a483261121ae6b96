/**
 * HttpExchange: one request and its response, the same shape on uWS and
 * node:http, so an application's handlers run on either server unchanged.
 *
 * Everything the handler may need from the request (method, path, the
 * session's headers) is copied when the exchange is built, synchronously,
 * because uWS recycles its request object at the first await. The client
 * address comes from the response's socket, which lives on: it is read on
 * first use, while the response is still open. The response is written once; writes after the client went
 * away, or after a response was sent, are dropped (and reported as false).
 */
import type { SessionContext } from './context.ts';
import { parseFields, parseJson } from './body.ts';
import { responseForError } from './errors-to-status.ts';
import { RequestAbortedError } from './http-error.ts';
import type { ResolvedAdapterOptions } from './options.ts';
import { appendReplacing } from './set-cookies.ts';

export type ResponseHeaders = Readonly<Record<string, string>>;

export interface HttpExchange {
  /** Upper-case, as sent ('GET', 'POST', …). */
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The raw query string without '?', or ''. */
  readonly query: string;
  /** What the session manager needs: cookie, client address, user agent, and where its Set-Cookie goes. */
  readonly ctx: ExchangeContext;
  /**
   * A copied request header (lower-case name): cookie, user-agent, content-type, content-length,
   * host, x-forwarded-for behind trusted proxies, or one listed in options.headers. Repeated lines are
   * read as node:http reads them: cookie joined with '; ', single-valued headers (user-agent,
   * content-type, referer, …) their first line, all others joined with ', '.
   */
  header(name: string): string | undefined;
  /** The client went away; nothing more can be written. */
  readonly aborted: boolean;
  /** A response has been written (by the handler or the adapter). */
  readonly responded: boolean;
  /** The whole body, at most maxBodyBytes (else ERR_HTTP_BODY_TOO_LARGE, a 413). Empty for GET and HEAD. */
  readBody(): Promise<Buffer>;
  /** The body as JSON (ERR_HTTP_BAD_BODY, a 400, if it does not parse). */
  readJson(): Promise<unknown>;
  /** A JSON object or an urlencoded form, as the Content-Type says. */
  readFields(): Promise<Record<string, unknown>>;
  /** Sends `value` as JSON with the Set-Cookie headers the session manager issued. False if nothing could be sent. */
  json(status: number, value: unknown, headers?: ResponseHeaders): boolean;
  /** Sends a body as is. False if nothing could be sent. */
  send(status: number, body: string | Uint8Array, headers?: ResponseHeaders): boolean;
}

export type ExchangeHandler = (exchange: HttpExchange) => void | Promise<void>;

/** Where an exchange's context gets what it reads on demand: the client address, the request's path and host. */
export interface ClientAddressSource {
  /** The client address, or undefined once it can no longer be read (uWS: after the response ended). */
  clientAddress(): string | undefined;
  readonly path: string;
  header(name: string): string | undefined;
  /** The request's Cookie and User-Agent, for a context made before they were copied (uWS copies them on first use). */
  sentHeaders?(): { readonly cookie: string | undefined; readonly userAgent: string | undefined };
}

/**
 * The SessionContext of one exchange: the request's cookie and user agent
 * (copied when the exchange is built), the client address (read on first
 * use: only create() needs it, and on uWS reading it allocates), the
 * request's path and host (for clearCookie), and the Set-Cookie values the
 * manager issues, collected for the response.
 *
 * A class rather than an object literal with an arrow function: one
 * allocation per request and no closure.
 */
export class ExchangeContext implements SessionContext {
  userId: string | undefined = undefined;
  tenantId: string | undefined = undefined;
  /** Set-Cookie values issued through appendSetCookie, in order. */
  setCookies: string[] | null = null;
  readonly #source: ClientAddressSource;
  #ipAddress: string | undefined;
  #ipKnown = false;
  #requestPath: string | undefined = undefined;
  #requestHost: string | undefined = undefined;
  #cookieHeader: string | undefined;
  #userAgent: string | undefined;
  /** Cookie and User-Agent not read yet: source.sentHeaders() has them (a lazy context). */
  #sentPending: boolean;
  #firstCookieLine: string | undefined;

  /**
   * With the request's Cookie and User-Agent, or lazily (`lazy`): then they
   * are read from source.sentHeaders() on first use, and `firstCookieLine`
   * is offered to the manager meanwhile.
   */
  constructor(cookieHeader: string | undefined, userAgent: string | undefined, source: ClientAddressSource, lazy?: { readonly firstCookieLine: string | undefined }) {
    this.#cookieHeader = cookieHeader;
    this.#userAgent = userAgent;
    this.#source = source;
    this.#sentPending = lazy !== undefined;
    this.#firstCookieLine = lazy?.firstCookieLine;
  }

  /** Reads the sent Cookie and User-Agent once, before either is read or replaced. */
  #loadSent(): void {
    if (!this.#sentPending) return;
    this.#sentPending = false;
    const sent = this.#source.sentHeaders?.();
    this.#cookieHeader = sent?.cookie;
    this.#userAgent = sent?.userAgent;
  }

  get cookieHeader(): string | undefined {
    this.#loadSent();
    return this.#cookieHeader;
  }

  set cookieHeader(value: string | undefined) {
    this.#loadSent();
    this.#cookieHeader = value;
    this.#firstCookieLine = undefined; // it described the request's header, not this one
  }

  /** See SessionContext.firstCookieLine. */
  get firstCookieLine(): string | undefined {
    return this.#firstCookieLine;
  }

  get userAgent(): string | undefined {
    this.#loadSent();
    return this.#userAgent;
  }

  set userAgent(value: string | undefined) {
    this.#loadSent();
    this.#userAgent = value;
  }

  get ipAddress(): string | undefined {
    if (!this.#ipKnown) {
      this.#ipAddress = this.#source.clientAddress();
      this.#ipKnown = true;
    }
    return this.#ipAddress;
  }

  set ipAddress(value: string | undefined) {
    this.#ipAddress = value;
    this.#ipKnown = true;
  }

  /** The request's path: clearCookie() also clears planted cookies scoped to its ancestors. */
  get requestPath(): string | undefined {
    return this.#requestPath ?? this.#source.path;
  }

  set requestPath(value: string | undefined) {
    this.#requestPath = value;
  }

  /** The request's Host: clearCookie() also clears planted cookies scoped to its parent domains. */
  get requestHost(): string | undefined {
    return this.#requestHost ?? this.#source.header('host');
  }

  set requestHost(value: string | undefined) {
    this.#requestHost = value;
  }

  appendSetCookie(value: string): void {
    appendReplacing((this.setCookies ??= []), value);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** What the adapters share: the session context, response bookkeeping, body parsing and failure handling. */
export abstract class ExchangeBase implements HttpExchange, ClientAddressSource {
  abstract readonly method: string;
  abstract readonly path: string;
  abstract readonly query: string;
  abstract readonly ctx: ExchangeContext;
  abstract header(name: string): string | undefined;
  abstract readonly aborted: boolean;
  abstract readBody(): Promise<Buffer>;
  abstract clientAddress(): string | undefined;
  /** Writes status, headers, the Set-Cookie values and body in one go. Called at most once, never after an abort. */
  protected abstract writeResponse(status: number, contentType: string, headers: ResponseHeaders | undefined, setCookies: readonly string[] | null, body: string | Uint8Array): void;

  protected readonly options: ResolvedAdapterOptions;
  #responded = false;

  constructor(options: ResolvedAdapterOptions) {
    this.options = options;
  }

  get responded(): boolean {
    return this.#responded;
  }

  async readJson(): Promise<unknown> {
    return parseJson(await this.readBody());
  }

  async readFields(): Promise<Record<string, unknown>> {
    const body = await this.readBody();
    return parseFields(body, this.header('content-type'));
  }

  json(status: number, value: unknown, headers?: ResponseHeaders): boolean {
    if (this.#responded || this.aborted) return false;
    return this.#respond(status, JSON_TYPE, headers, JSON.stringify(value) ?? 'null');
  }

  send(status: number, body: string | Uint8Array, headers?: ResponseHeaders): boolean {
    if (this.#responded || this.aborted) return false;
    return this.#respond(status, headers?.['content-type'] ?? TEXT_TYPE, headers, body);
  }

  #respond(status: number, contentType: string, headers: ResponseHeaders | undefined, body: string | Uint8Array): boolean {
    this.#responded = true;
    this.writeResponse(status, contentType, headers, this.ctx.setCookies, body);
    return true;
  }

  /** The handler threw: answer with the mapped status, log what is ours. */
  fail(error: unknown): void {
    if (error instanceof RequestAbortedError) return; // the client left; nobody to tell, nothing of ours broke
    const mapped = responseForError(error);
    // A failure after the response went out cannot reach the client: the log is the only place it shows.
    if (mapped.log || this.#responded) this.options.onError(error, { method: this.method, path: this.path });
    if (this.#responded || this.aborted) return;
    // Cookies issued before the failure (a refresh, a regenerate) still describe the live session: keep them.
    this.#respond(mapped.status, JSON_TYPE, mapped.headers, JSON.stringify(mapped.body));
  }

  /** The handler returned: a request left without an answer is a bug in the handler, and a 500. */
  finish(): void {
    if (this.#responded || this.aborted) return;
    this.fail(new Error(`handler for ${this.method} ${this.path} returned without responding`));
  }
}

/** Runs a handler on an exchange, turning whatever it throws into a response. True when the handler goes on after returning (it returned a promise). */
export function runExchange(exchange: ExchangeBase, handler: ExchangeHandler): boolean {
  let result: void | Promise<void>;
  try {
    result = handler(exchange);
  } catch (error) {
    exchange.fail(error);
    return false;
  }
  if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
    (result as Promise<void>).then(
      () => exchange.finish(),
      (error: unknown) => exchange.fail(error),
    );
    return true;
  }
  exchange.finish();
  return false;
}
