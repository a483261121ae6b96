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
 *   header the exchange offers (every line of it: see uws-headers.ts) is
 *   copied before the handler runs, or, for a GET or HEAD, on first use
 *   inside uWS's callback and at the latest before that callback returns if
 *   the handler goes on after it;
 * - a response not answered synchronously must have onAborted attached
 *   before the route handler returns, and must never be touched after it
 *   fires;
 * - the body arrives through onData, which must also be attached now;
 * - writes after an await go inside cork(), so status, headers and body
 *   leave in one syscall.
 *
 * And one that uWS does not state but enforces: it supports pipelining only
 * for responses sent before the next request is parsed. A request arriving
 * on a connection whose previous response is still pending makes uWS close
 * the connection on the spot (HttpContext.h: "Important for denying async
 * pipelining"; uWebSockets.js#277, wontfix), and the pending response is
 * lost. A handler that had already started would have done its work (a
 * login, a cart write) for a client that never hears of it and retries.
 * So, see `scheduleStart` below:
 * - a handler of a request with a body (POST, PUT, DELETE, …) starts only
 *   once its request has fully arrived and uWS has parsed everything that
 *   came with it (in the check phase of the same event-loop turn). If a
 *   pipelined request was behind it, uWS has closed the connection by
 *   then, and the handler never runs;
 * - a GET or HEAD handler starts at once, inside uWS's callback: one that
 *   answers from memory (a cached session) is done before uWS parses the
 *   next request, so pipelined reads keep working, at no cost. One that has
 *   to wait loses its answer to a pipelined request behind it, but a GET is
 *   safe to repeat (RFC 9110, 9.2.2: the methods a client may retry), and
 *   only the methods that are not are held back as above;
 * - a handler still waiting after that turn (on a store, a worker) has its
 *   connection paused: uWS reads nothing more from it, so a request the
 *   client pipelines meanwhile waits in the kernel, and is read and answered
 *   in order once this response is out (reading resumes as it is written).
 *   Requests that pile up meanwhile are read together, and refused as above.
 *   A paused connection is not watched at all (uWS.js runs on libuv, where
 *   pause() stops the poll): a client that leaves meanwhile, by FIN or
 *   reset, is noticed only when the answer is written, which then goes
 *   nowhere. A client that only half-closed gets its answer.
 */
import './uws-binding.ts'; // first: without uWebSockets.js installed, importing this adapter fails here, saying how to install it
import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { BodyCollector } from './body-collector.ts';
import { bodyTooLarge } from './body.ts';
import { ExchangeBase, ExchangeContext, runExchange, type ExchangeHandler, type ResponseHeaders } from './exchange.ts';
import { RequestAbortedError } from './http-error.ts';
import { resolveAdapterOptions, type AdapterOptions, type ResolvedAdapterOptions } from './options.ts';
import { copyRequestHeaders, CopiedHeaders } from './uws-headers.ts';

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
  readonly #handler: ExchangeHandler;
  #aborted = false;
  /** Queued to start (once: a body can settle more than once from uWS's point of view). */
  #scheduled = false;
  /** Inside uWS's route callback: writes need no cork (uWS corks the socket for the callback). */
  #inCallback = false;
  /** Reading from the connection is paused until this response is written. */
  #paused = false;
  /** Every header line the exchange offers, copied: at once for a request with a body, on first use for a GET or HEAD (see below). */
  #headers: CopiedHeaders | null = null;
  /** uWS's request, alive only inside its callback: where a GET's headers are copied from on first use. */
  #req: HttpRequest | null = null;
  readonly #body: BodyCollector | null;

  constructor(res: HttpResponse, req: HttpRequest, options: ResolvedAdapterOptions, handler: ExchangeHandler) {
    super(options);
    this.#res = res;
    this.#handler = handler;
    this.method = req.getCaseSensitiveMethod();
    this.path = req.getUrl();
    this.query = req.getQuery() ?? '';
    if (this.method === 'GET' || this.method === 'HEAD') {
      // Headers on first use, while req lives: a cache hit answered inside this callback needs only the first
      // Cookie line (getHeader, nearly free), where copying every line (forEach) costs about 0.6 µs. A handler
      // that goes on after the callback gets every header copied before it returns, as for other requests.
      this.#req = req;
      const firstCookieLine = req.getHeader('cookie');
      this.ctx = new ExchangeContext(undefined, undefined, this, { firstCookieLine: firstCookieLine === '' ? undefined : firstCookieLine });
      this.#body = null;
      this.#scheduled = true;
      this.#inCallback = true;
      const continues = this.start();
      this.#inCallback = false;
      if (continues || !this.responded) this.#copied();
      this.#req = null; // req is stack-allocated: gone when this callback returns
      // Still inside uWS's callback, so nothing has awaited yet: a handler that did not answer gets its abort handler
      // now (uWS wants one before the callback returns), and its connection paused if it is still waiting a turn later.
      if (!this.responded) {
        this.#watchAbort();
        startedThisTurn.push(this);
        if (startedThisTurn.length === 1 && toStart.length === 0) setImmediate(pauseWaiting);
      }
    } else {
      // Headers now: req is stack-allocated and gone at the first await. '' means absent, as on node.
      const headers = this.#copyFrom(req);
      this.ctx = new ExchangeContext(headers.cookie || undefined, headers.userAgent || undefined, this);
      this.#watchAbort();
      this.#body = collectBody(res, headers.contentLength || undefined, options.maxBodyBytes, this);
    }
  }

  #copyFrom(req: HttpRequest): CopiedHeaders {
    const headers = copyRequestHeaders(req, this.options.proxies.enabled, this.options.headerNames);
    this.#headers = headers;
    return headers;
  }

  /**
   * The copied headers, copying them now if req still lives. After uWS's
   * callback, a GET handler that answered inside it and returned (nothing
   * of it runs later) never had them copied: then every header reads as
   * absent.
   */
  #copied(): CopiedHeaders {
    if (this.#headers !== null) return this.#headers;
    if (this.#req !== null) return this.#copyFrom(this.#req);
    return (this.#headers = new CopiedHeaders());
  }

  sentHeaders(): { readonly cookie: string | undefined; readonly userAgent: string | undefined } {
    const headers = this.#copied();
    return { cookie: headers.cookie || undefined, userAgent: headers.userAgent || undefined };
  }

  /** From here on an abort is a flag, never a crash. Attached before anything can await. */
  #watchAbort(): void {
    this.#res.onAborted(() => {
      this.#aborted = true;
      this.#body?.fail(new RequestAbortedError());
    });
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
    }
    const headers = this.#copied();
    switch (name) {
      case 'content-type':
        return headers.contentType || undefined;
      case 'content-length':
        return headers.contentLength || undefined;
      case 'host':
        return headers.host || undefined;
      case 'x-forwarded-for':
        if (headers.forwardedFor !== undefined) return headers.forwardedFor || undefined;
    }
    return headers.extra?.get(name) || undefined;
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
    return this.options.proxies.clientAddress(peer, this.#copied().forwardedFor);
  }

  readBody(): Promise<Buffer> {
    if (this.#body === null) return Promise.resolve(Buffer.alloc(0));
    return this.#body.read();
  }

  /** The request has fully arrived (or its body failed): start the handler once uWS has parsed the rest of this read. */
  requestReceived(): void {
    if (this.#scheduled || this.#aborted) return;
    this.#scheduled = true;
    scheduleStart(this);
  }

  /**
   * Runs the handler, unless the client (or uWS, for a pipelined request
   * behind this one) closed the connection first. True when the handler
   * goes on after returning (it returned a promise).
   */
  start(): boolean {
    if (this.#aborted) return false;
    try {
      return runExchange(this, this.#handler);
    } catch (error) {
      // runExchange answers whatever the handler throws; this is for a failure to answer at all. Caught here so
      // that the other requests of this turn still start.
      this.options.onError(error, { method: this.method, path: this.path });
      return false;
    }
  }

  /** Called a turn after start(): a handler still waiting holds the connection's reads until it answers. */
  pauseIfWaiting(): void {
    if (this.#aborted || this.responded || this.#paused) return;
    this.#paused = true;
    this.#res.pause();
  }

  protected writeResponse(status: number, contentType: string, headers: ResponseHeaders | undefined, setCookies: readonly string[] | null, body: string | Uint8Array): void {
    // Inside uWS's route callback the socket is corked already; after an await, cork() makes status, headers and body one write.
    if (this.#inCallback) writeTo(this.#res, this.#paused, status, contentType, headers, setCookies, body);
    else this.#res.cork(() => writeTo(this.#res, this.#paused, status, contentType, headers, setCookies, body));
  }
}

function writeTo(res: HttpResponse, paused: boolean, status: number, contentType: string, headers: ResponseHeaders | undefined, setCookies: readonly string[] | null, body: string | Uint8Array): void {
  // Before end(): it invalidates res. Nothing is read until the write is done, and by then the response is out.
  if (paused) res.resume();
  res.writeStatus(statusLine(status));
  res.writeHeader('content-type', contentType);
  if (setCookies !== null) {
    for (const value of setCookies) res.writeHeader('set-cookie', value);
    // A response that sets a session cookie must never be stored by a shared cache.
    res.writeHeader('cache-control', 'no-store');
  }
  let closeConnection = false;
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
}

/**
 * Starts reading the body now: uWS drops data that arrives before onData is
 * attached. The exchange hears when the body is complete or has failed
 * (too large), so that its handler can start.
 */
function collectBody(res: HttpResponse, declaredLength: string | undefined, limit: number, exchange: UwsExchange): BodyCollector {
  const body = new BodyCollector(limit);
  if (declaredLength !== undefined && Number(declaredLength) > limit) {
    // Known too large up front: fail now and skip reading it (the 413 closes the connection).
    body.fail(bodyTooLarge(limit));
    exchange.requestReceived();
    return body;
  }
  res.onData((chunk, isLast) => {
    // uWS neuters the chunk's memory when this callback returns: copy it.
    if (!body.settled && !body.push(Buffer.from(new Uint8Array(chunk)))) {
      exchange.requestReceived(); // over the limit: the handler answers 413 without waiting for the rest
      return;
    }
    if (isLast) {
      body.end();
      exchange.requestReceived();
    }
  });
  return body;
}

/*
 * Starting handlers after the read is parsed, and pausing those left waiting.
 *
 * uWS calls route handlers from inside its parse of one read from a socket
 * (and drains microtasks after each call), so a handler started there could
 * be cut off by a pipelined request later in the same read. setImmediate
 * runs after the poll phase has handed every read of this turn to uWS: by
 * then uWS has closed any connection that pipelined behind an unanswered
 * request, and those exchanges are aborted. One pair of immediates serves
 * every request of the turn, so the cost per request is an array push.
 *
 * The second immediate of the pair runs after the first one's microtasks:
 * handlers that answer from memory (a cached session) are done by then.
 * The rest wait on I/O, and their connections are paused before the next
 * poll phase can read a request pipelined behind them. pause() is a
 * syscall (epoll_ctl) paid only by requests that wait on I/O anyway.
 */
let toStart: UwsExchange[] = [];
let startedThisTurn: UwsExchange[] = [];

function scheduleStart(exchange: UwsExchange): void {
  if (toStart.push(exchange) === 1) {
    setImmediate(startReceived);
    setImmediate(pauseWaiting);
  }
}

function startReceived(): void {
  const batch = toStart;
  toStart = [];
  for (const exchange of batch) {
    exchange.start();
    startedThisTurn.push(exchange); // pauseWaiting passes over those that answered or were aborted
  }
}

function pauseWaiting(): void {
  const batch = startedThisTurn;
  startedThisTurn = [];
  for (const exchange of batch) exchange.pauseIfWaiting();
}

/** Wraps `handler` as a uWS route handler (for app.get, app.post, app.any, …). */
export function uwsHandler(handler: ExchangeHandler, options?: AdapterOptions): UwsRouteHandler {
  if (typeof handler !== 'function') throw new TypeError('uwsHandler(handler): handler must be a function');
  const resolved = resolveAdapterOptions(options);
  return (res, req) => {
    new UwsExchange(res, req, resolved, handler);
  };
}
