/**
 * HttpExchange: one request and its response, the same shape on uWS and
 * node:http, so an application's handlers run on either server unchanged.
 *
 * Everything the handler may need from the request (method, path, the
 * session's headers, the client address) is copied when the exchange is
 * built, synchronously, because uWS recycles its request object at the
 * first await. The response is written once; writes after the client went
 * away, or after a response was sent, are dropped (and reported as false).
 */
import type { SessionContext } from './context.ts';
import { parseFields, parseJson } from './body.ts';
import { responseForError } from './errors-to-status.ts';
import { RequestAbortedError } from './http-error.ts';
import type { ResolvedAdapterOptions } from './options.ts';

export type ResponseHeaders = Readonly<Record<string, string>>;

export interface HttpExchange {
  /** Upper-case, as sent ('GET', 'POST', …). */
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The raw query string without '?', or ''. */
  readonly query: string;
  /** What the session manager needs: cookie, client address, user agent, and where its Set-Cookie goes. */
  readonly ctx: SessionContext;
  /** A copied request header (lower-case name): cookie, user-agent, content-type, content-length, or one listed in options.headers. */
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

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** What the adapters share: the session context, response bookkeeping, body parsing and failure handling. */
export abstract class ExchangeBase implements HttpExchange {
  abstract readonly method: string;
  abstract readonly path: string;
  abstract readonly query: string;
  abstract readonly ctx: SessionContext;
  abstract header(name: string): string | undefined;
  abstract readonly aborted: boolean;
  abstract readBody(): Promise<Buffer>;
  /** Writes status, headers, the Set-Cookie values and body in one go. Called at most once, never after an abort. */
  protected abstract writeResponse(status: number, contentType: string, headers: ResponseHeaders | undefined, setCookies: readonly string[] | null, body: string | Uint8Array): void;

  protected readonly options: ResolvedAdapterOptions;
  /** Set-Cookie values issued through ctx.appendSetCookie, sent with the response. */
  protected setCookies: string[] | null = null;
  #responded = false;

  constructor(options: ResolvedAdapterOptions) {
    this.options = options;
  }

  get responded(): boolean {
    return this.#responded;
  }

  /** The SessionContext handed to the manager; its appendSetCookie collects values for the response. */
  protected sessionContext(cookieHeader: string | undefined, ipAddress: string, userAgent: string | undefined): SessionContext {
    return {
      cookieHeader,
      ipAddress,
      userAgent,
      userId: undefined,
      tenantId: undefined,
      appendSetCookie: (value: string) => {
        (this.setCookies ??= []).push(value);
      },
    };
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
    this.writeResponse(status, contentType, headers, this.setCookies, body);
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

/** Runs a handler on an exchange, turning whatever it throws into a response. */
export function runExchange(exchange: ExchangeBase, handler: ExchangeHandler): void {
  let result: void | Promise<void>;
  try {
    result = handler(exchange);
  } catch (error) {
    exchange.fail(error);
    return;
  }
  if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
    (result as Promise<void>).then(
      () => exchange.finish(),
      (error: unknown) => exchange.fail(error),
    );
  } else {
    exchange.finish();
  }
}
