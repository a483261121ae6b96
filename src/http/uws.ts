/**
 * uWebSockets.js adapter: wraps an ExchangeHandler as a uWS route handler.
 *
 *   app.get('/profile', uwsHandler(async (ex) => {
 *     const session = await manager.getSessionFromCookie(ex.ctx);
 *     ex.json(200, session.data);
 *   }));
 *
 * uWS's rules, all kept here so handlers need not know them:
 * - the HttpRequest is stack-allocated and dies at the first await, so every
 *   header the exchange offers is copied before the handler runs;
 * - a response not answered synchronously must have onAborted attached
 *   before the handler returns, and must never be touched after it fires
 *   ("invalid access of discarded response" aborts the process);
 * - the body arrives through onData, which must also be attached now;
 * - writes after an await go inside cork(), so status, headers and body
 *   leave in one syscall.
 */
import './uws-binding.ts'; // first: without uWebSockets.js installed, importing this adapter fails here, saying how to install it
import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { BodyCollector } from './body-collector.ts';
import { bodyTooLarge } from './body.ts';
import { ExchangeBase, ExchangeContext, runExchange, type ExchangeHandler, type ResponseHeaders } from './exchange.ts';
import { RequestAbortedError } from './http-error.ts';
import { resolveAdapterOptions, type AdapterOptions, type ResolvedAdapterOptions } from './options.ts';

export type { AdapterOptions } from './options.ts';
export type { ExchangeHandler, HttpExchange, ResponseHeaders } from './exchange.ts';
export { HttpError } from './http-error.ts';

type UwsRouteHandler = (res: HttpResponse, req: HttpRequest) => void;

const statusLines = new Map<number, string>();

/** '200 OK', built once per status: uWS wants the whole status line. */
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    statusLines.set(status, line);
  }
  return line;
}

const latin1 = new TextDecoder('latin1');

class UwsExchange extends ExchangeBase {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly ctx: ExchangeContext;
  readonly #res: HttpResponse;
  #aborted = false;
  readonly #forwardedFor: string | undefined;
  readonly #contentType: string | undefined;
  readonly #contentLength: string | undefined;
  readonly #extraHeaders: Map<string, string> | null;
  readonly #body: BodyCollector | null;

  constructor(res: HttpResponse, req: HttpRequest, options: ResolvedAdapterOptions) {
    super(options);
    this.#res = res;
    // Attached first, before anything can await: from here on an abort is a flag, never a crash.
    res.onAborted(() => {
      this.#aborted = true;
      this.#body?.fail(new RequestAbortedError());
    });
    this.method = req.getCaseSensitiveMethod();
    this.path = req.getUrl();
    this.query = req.getQuery() ?? '';
    // Headers now: req is stack-allocated and gone at the first await. '' means absent in uWS.
    this.ctx = new ExchangeContext(req.getHeader('cookie') || undefined, req.getHeader('user-agent') || undefined, this);
    this.#forwardedFor = options.proxies.enabled ? req.getHeader('x-forwarded-for') || undefined : undefined;
    let extra: Map<string, string> | null = null;
    for (const name of options.headers) {
      const value = req.getHeader(name);
      if (value !== '') (extra ??= new Map()).set(name, value);
    }
    this.#extraHeaders = extra;
    if (this.method === 'GET' || this.method === 'HEAD') {
      this.#contentType = undefined;
      this.#contentLength = undefined;
      this.#body = null;
    } else {
      this.#contentType = req.getHeader('content-type') || undefined;
      this.#contentLength = req.getHeader('content-length') || undefined;
      this.#body = collectBody(res, this.#contentLength, options.maxBodyBytes);
    }
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  header(name: string): string | undefined {
    switch (name) {
      case 'cookie':
        return this.ctx.cookieHeader;
      case 'user-agent':
        return this.ctx.userAgent;
      case 'content-type':
        return this.#contentType;
      case 'content-length':
        return this.#contentLength;
      case 'x-forwarded-for':
        if (this.#forwardedFor !== undefined) return this.#forwardedFor;
    }
    return this.#extraHeaders?.get(name);
  }

  /**
   * Read on first use only: getRemoteAddressAsText allocates an ArrayBuffer
   * (measured about 2 µs with the decode, on the order of 5% of a /profile
   * request), and most requests never need the address. The response must
   * still be live to ask it.
   */
  clientAddress(): string | undefined {
    if (this.#aborted || this.responded) return undefined;
    const peer = latin1.decode(this.#res.getRemoteAddressAsText());
    return this.options.proxies.clientAddress(peer, this.#forwardedFor);
  }

  readBody(): Promise<Buffer> {
    if (this.#body === null) return Promise.resolve(Buffer.alloc(0));
    return this.#body.read();
  }

  protected writeResponse(status: number, contentType: string, headers: ResponseHeaders | undefined, setCookies: readonly string[] | null, body: string | Uint8Array): void {
    const res = this.#res;
    let closeConnection = false;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      res.writeHeader('content-type', contentType);
      if (setCookies !== null) {
        for (const value of setCookies) res.writeHeader('set-cookie', value);
        // A response that sets a session cookie must never be stored by a shared cache.
        res.writeHeader('cache-control', 'no-store');
      }
      if (headers !== undefined) {
        for (const name in headers) {
          if (name === 'content-type') continue;
          if (name === 'connection' && headers[name] === 'close') {
            closeConnection = true;
            continue;
          }
          res.writeHeader(name, headers[name] as string);
        }
      }
      res.end(body, closeConnection);
    });
  }
}

/** Starts reading the body now: uWS drops data that arrives before onData is attached. */
function collectBody(res: HttpResponse, declaredLength: string | undefined, limit: number): BodyCollector {
  const body = new BodyCollector(limit);
  if (declaredLength !== undefined && Number(declaredLength) > limit) {
    // Known too large up front: fail now and skip reading it (the 413 closes the connection).
    body.fail(bodyTooLarge(limit));
    return body;
  }
  res.onData((chunk, isLast) => {
    // uWS neuters the chunk's memory when this callback returns: copy it.
    if (!body.settled) body.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) body.end();
  });
  return body;
}

/** Wraps `handler` as a uWS route handler (for app.get, app.post, app.any, …). */
export function uwsHandler(handler: ExchangeHandler, options?: AdapterOptions): UwsRouteHandler {
  if (typeof handler !== 'function') throw new TypeError('uwsHandler(handler): handler must be a function');
  const resolved = resolveAdapterOptions(options);
  return (res, req) => runExchange(new UwsExchange(res, req, resolved), handler);
}
