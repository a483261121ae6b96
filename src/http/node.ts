/**
 * node:http adapter: the same exchange as the uWS adapter, for plain Node
 * servers, Express and anything else built on IncomingMessage/ServerResponse.
 *
 *   http.createServer(nodeHandler(async (ex) => { … ex.json(200, {…}) }));
 *
 * nodeHandler is a terminal handler: it answers every request it is given
 * and never calls next(). In Express, mount it as a route's handler
 * (app.post('/login', nodeHandler(…))); for middleware that gives every
 * route `req.session`, use rockstar-session/express. A body that a parser
 * mounted before it already read (express.json(), express.urlencoded(),
 * express.raw(), express.text()) is taken from `req.body`.
 *
 * Express (or any middleware stack) users who keep their own responses can
 * take just the SessionContext:
 *
 *   const ctx = nodeSessionContext(req, res);
 *   const session = await manager.getSessionFromCookie(ctx);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyCollector } from './body-collector.ts';
import { bodyTooLarge } from './body.ts';
import type { SessionContext } from './context.ts';
import { ExchangeBase, ExchangeContext, runExchange, type ExchangeHandler, type ResponseHeaders } from './exchange.ts';
import { HttpError, RequestAbortedError } from './http-error.ts';
import { resolveAdapterOptions, type AdapterOptions, type ResolvedAdapterOptions } from './options.ts';

export type { AdapterOptions } from './options.ts';
export type { ExchangeHandler, HttpExchange, ResponseHeaders } from './exchange.ts';
export { HttpError } from './http-error.ts';

type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function clientAddress(req: IncomingMessage, options: ResolvedAdapterOptions): string | undefined {
  // Undefined once the socket is gone.
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return undefined;
  if (!options.proxies.enabled) return options.proxies.clientAddress(peer, undefined);
  const forwarded = req.headers['x-forwarded-for'];
  return options.proxies.clientAddress(peer, Array.isArray(forwarded) ? forwarded.join(',') : forwarded);
}

class NodeExchange extends ExchangeBase {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly ctx: ExchangeContext;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #body: BodyCollector | null = null;

  constructor(req: IncomingMessage, res: ServerResponse, options: ResolvedAdapterOptions) {
    super(options);
    this.#req = req;
    this.#res = res;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    this.path = mark === -1 ? url : url.slice(0, mark);
    this.query = mark === -1 ? '' : url.slice(mark + 1);
    // Node keeps the request for the whole exchange, but copying now keeps both adapters alike.
    this.ctx = new ExchangeContext(req.headers.cookie || undefined, req.headers['user-agent'] || undefined, this);
  }

  clientAddress(): string | undefined {
    return clientAddress(this.#req, this.options);
  }

  get aborted(): boolean {
    // destroyed: the socket closed (client gone, or we closed it) before our response finished.
    return this.#res.destroyed && !this.#res.writableFinished;
  }

  header(name: string): string | undefined {
    return firstHeader(this.#req.headers[name]) || undefined;
  }

  readBody(): Promise<Buffer> {
    if (this.method === 'GET' || this.method === 'HEAD') return Promise.resolve(Buffer.alloc(0));
    this.#body ??= this.#collect();
    return this.#body.read();
  }

  override async readJson(): Promise<unknown> {
    const parsed = this.#parsedEarlier();
    return parsed === undefined ? super.readJson() : parsed;
  }

  override async readFields(): Promise<Record<string, unknown>> {
    const parsed = this.#parsedEarlier();
    if (parsed === undefined) return super.readFields();
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'ERR_HTTP_BAD_BODY', 'request body must be a JSON object');
    return parsed as Record<string, unknown>;
  }

  /** What a body parser before this handler made of the body (it read the stream), unless it kept raw bytes or text; undefined otherwise. */
  #parsedEarlier(): unknown {
    if (!this.#req.readableEnded) return undefined;
    const earlier = (this.#req as { body?: unknown }).body;
    return earlier === undefined || typeof earlier === 'string' || Buffer.isBuffer(earlier) ? undefined : earlier;
  }

  #collect(): BodyCollector {
    const limit = this.options.maxBodyBytes;
    const body = new BodyCollector(limit);
    const req = this.#req;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      body.fail(bodyTooLarge(limit));
      return body;
    }
    if (req.readableEnded) {
      // Someone before us read the stream (a body parser): its bytes, if it kept them, are in req.body.
      const earlier = (req as { body?: unknown }).body;
      if (Buffer.isBuffer(earlier) || typeof earlier === 'string') {
        if (body.push(Buffer.isBuffer(earlier) ? earlier : Buffer.from(earlier))) body.end();
      } else {
        // Not the client's fault: a 500 for the log, never a 400 saying their body was broken.
        body.fail(new Error('the request body was already read by a middleware before nodeHandler, and req.body holds no bytes of it: mount nodeHandler before that parser, or use express.raw()/express.text()'));
      }
      return body;
    }
    const onData = (chunk: Buffer): void => {
      if (!body.push(chunk)) stop();
    };
    const onEnd = (): void => {
      body.end();
      stop();
    };
    const onGone = (): void => {
      body.fail(new RequestAbortedError());
      stop();
    };
    const stop = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onClose);
    };
    const onClose = (): void => {
      if (!req.readableEnded) onGone();
    };
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onClose);
    return body;
  }

  protected writeResponse(status: number, contentType: string, headers: ResponseHeaders | undefined, setCookies: readonly string[] | null, body: string | Uint8Array): void {
    const res = this.#res;
    const out: Record<string, string | number | readonly string[]> = {
      'content-type': contentType,
      'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    };
    if (setCookies !== null) {
      out['set-cookie'] = setCookies;
      // A response that sets a session cookie must never be stored by a shared cache.
      out['cache-control'] = 'no-store';
    }
    if (headers !== undefined) for (const name in headers) if (name !== 'content-type') out[name] = headers[name] as string;
    res.writeHead(status, out as Record<string, string | number | string[]>);
    res.end(body);
  }
}

/** Wraps `handler` as a node:http request listener: http.createServer(listener), or an Express route handler. Terminal: it answers, never calls next(). */
export function nodeHandler(handler: ExchangeHandler, options?: AdapterOptions): NodeRequestListener {
  if (typeof handler !== 'function') throw new TypeError('nodeHandler(handler): handler must be a function');
  const resolved = resolveAdapterOptions(options);
  return (req, res) => runExchange(new NodeExchange(req, res, resolved), handler);
}

/**
 * Just the SessionContext for a node:http (or Express) request: its Set-Cookie
 * values are appended to `res` as they are issued, so send the response after
 * the session calls. Build the options once with resolveAdapterOptions when
 * calling this per request with trusted proxies.
 */
export function nodeSessionContext(req: IncomingMessage, res: ServerResponse, options?: AdapterOptions | ResolvedAdapterOptions): SessionContext {
  const resolved = options !== undefined && 'proxies' in options ? options : resolveAdapterOptions(options);
  return {
    cookieHeader: req.headers.cookie || undefined,
    ipAddress: clientAddress(req, resolved),
    userAgent: req.headers['user-agent'] || undefined,
    userId: undefined,
    tenantId: undefined,
    requestPath: req.url,
    requestHost: req.headers.host,
    appendSetCookie(value: string) {
      res.appendHeader('set-cookie', value);
    },
  };
}

export { resolveAdapterOptions } from './options.ts';
