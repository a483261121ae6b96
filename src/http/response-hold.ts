/**
 * Holds a node:http response (Express, Connect) until the session is
 * committed, so the session is saved before the response's headers go out.
 *
 * The cookie a save issues carries the record version it wrote, so the
 * cookie cannot be set before the save is done. When the application first
 * writes (res.writeHead, write, end, flushHeaders; res.json, res.send,
 * res.redirect, res.sendFile and piped streams all come down to these),
 * the session's commit starts; if it has work to do, that call and every
 * later one is queued, in order, and replayed once the commit is done, with
 * the Set-Cookie, Cache-Control and Vary headers added. write() answers
 * false meanwhile and 'drain' follows the replay, so a piped stream waits
 * instead of filling memory. A commit that fails replaces the response
 * with the error's status (responseForError) and drops what the
 * application writes after that.
 *
 * While held, the response does not look sent (headersSent stays false), so
 * an application that answers twice (res.json, then next() into a 404) is
 * not stopped by node as it would be. The hold does it instead: the response
 * goes out as it was when the application ended it (status and headers put
 * back), and what is written after the end is dropped and reported as
 * ERR_STREAM_WRITE_AFTER_END, where node would have thrown or emitted an
 * 'error' nobody listens to (which ends the process).
 *
 * The patched methods are shared functions found through a symbol on the
 * response: no closure is made per request.
 */
import type { ServerResponse } from 'node:http';
import { REPLACED_RESPONSE_HEADERS, sessionFailureResponse } from './error-response.ts';
import { varyWithCookie, type FrameworkContext } from './framework-context.ts';
import type { FailureReporter, RequestSession } from './request-session.ts';

const HOLD = Symbol('rockstar-session.responseHold');

const OPEN = 0; // nothing written yet
const HOLDING = 1; // commit in flight: calls are queued
const PASSING = 2; // committed: calls go straight through
const FAILED = 3; // commit failed, the error response was sent: calls are dropped

type Method = 'writeHead' | 'write' | 'end' | 'flushHeaders';
type HeaderValue = number | string | readonly string[] | undefined;

/** The response as the application ended it, put back before the queue is replayed. */
interface EndedState {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: Readonly<Record<string, HeaderValue>>;
}
type Phase = typeof OPEN | typeof HOLDING | typeof PASSING | typeof FAILED;
type AnyFunction = (...args: unknown[]) => unknown;
type HeldResponse = ServerResponse & { [HOLD]?: ResponseHold };

function holdOf(res: ServerResponse): ResponseHold {
  return (res as HeldResponse)[HOLD] as ResponseHold;
}

function patchedWriteHead(this: ServerResponse, ...args: unknown[]): unknown {
  return holdOf(this).call('writeHead', args);
}
function patchedWrite(this: ServerResponse, ...args: unknown[]): unknown {
  return holdOf(this).call('write', args);
}
function patchedEnd(this: ServerResponse, ...args: unknown[]): unknown {
  return holdOf(this).call('end', args);
}
function patchedFlushHeaders(this: ServerResponse, ...args: unknown[]): unknown {
  return holdOf(this).call('flushHeaders', args);
}

/** A write or end callback (always the last function argument): called once the call is dropped after a failure. */
function callbackOf(args: readonly unknown[]): (() => void) | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as () => void) : undefined;
}

export class ResponseHold {
  readonly #res: ServerResponse;
  readonly #session: RequestSession<object>;
  readonly #ctx: FrameworkContext;
  readonly #reporter: FailureReporter;
  readonly #original: Record<Method, AnyFunction>;
  #phase: Phase = OPEN;
  /** Calls made while the commit runs, in order (allocated only for a response that has to wait). */
  #queue: Array<readonly [Method, unknown[]]> | null = null;
  /** A queued write answered false: the writer waits for 'drain'. */
  #owesDrain = false;
  #headersAdded = false;
  /** Set when end() was queued: later calls are writes after the end. */
  #ended: EndedState | null = null;
  #reportedAfterEnd = false;

  private constructor(res: ServerResponse, session: RequestSession<object>, ctx: FrameworkContext, reporter: FailureReporter) {
    this.#res = res;
    this.#session = session;
    this.#ctx = ctx;
    this.#reporter = reporter;
    // Whatever is there now (another middleware's patch included) is what a released call runs.
    this.#original = { writeHead: res.writeHead as AnyFunction, write: res.write as AnyFunction, end: res.end as AnyFunction, flushHeaders: res.flushHeaders as AnyFunction };
  }

  /** Patches `res` so that its headers wait for `session`'s commit. */
  static install(res: ServerResponse, session: RequestSession<object>, ctx: FrameworkContext, reporter: FailureReporter): void {
    const held = res as HeldResponse;
    held[HOLD] = new ResponseHold(res, session, ctx, reporter);
    held.writeHead = patchedWriteHead as ServerResponse['writeHead'];
    held.write = patchedWrite as ServerResponse['write'];
    held.end = patchedEnd as ServerResponse['end'];
    held.flushHeaders = patchedFlushHeaders as ServerResponse['flushHeaders'];
  }

  /** @internal One patched call. */
  call(method: Method, args: unknown[]): unknown {
    if (this.#phase === OPEN) this.#begin();
    switch (this.#phase) {
      case PASSING:
        return this.#run(method, args);
      case HOLDING:
        if (this.#ended !== null) return this.#afterEnd(method, args);
        (this.#queue ??= []).push([method, args]);
        if (method === 'end') this.#ended = endedStateOf(this.#res);
        if (method === 'write') {
          this.#owesDrain = true;
          return false;
        }
        return method === 'flushHeaders' ? undefined : this.#res;
      default: {
        const callback = method === 'write' || method === 'end' ? callbackOf(args) : undefined;
        if (callback) process.nextTick(callback);
        if (method === 'write') return true;
        return method === 'flushHeaders' ? undefined : this.#res;
      }
    }
  }

  /**
   * A call after the queued end: dropped, with node's answer to it. A bare
   * end() or flushHeaders() is harmless there (node ignores it); anything
   * carrying a status or bytes is a second response, reported once.
   */
  #afterEnd(method: Method, args: unknown[]): unknown {
    const callback = method === 'write' || method === 'end' ? callbackOf(args) : undefined;
    // As node decides it: end('') is a bare end (it tests the chunk for truthiness).
    const carriesData = method === 'writeHead' || method === 'write' || (method === 'end' && Boolean(args[0]) && typeof args[0] !== 'function');
    const code = !carriesData ? 'ERR_STREAM_ALREADY_FINISHED' : method === 'writeHead' ? 'ERR_HTTP_HEADERS_SENT' : 'ERR_STREAM_WRITE_AFTER_END';
    const error = Object.assign(new Error(`res.${method}() after the response was ended (a second response?): dropped`), { code });
    if (carriesData && !this.#reportedAfterEnd) {
      this.#reportedAfterEnd = true;
      this.#reporter.report(error);
    }
    if (callback) process.nextTick(callback, error);
    if (method === 'write') return false;
    return method === 'flushHeaders' ? undefined : this.#res;
  }

  #begin(): void {
    let pending: Promise<void> | null;
    try {
      pending = this.#session.commit();
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (pending === null) {
      this.#phase = PASSING;
      return;
    }
    this.#phase = HOLDING;
    pending.then(
      () => this.#release(),
      (error: unknown) => this.#fail(error),
    );
  }

  #run(method: Method, args: unknown[]): unknown {
    if (method === 'writeHead') args = this.#addHeaders(args);
    return this.#original[method].apply(this.#res, args);
  }

  #release(): void {
    const queue = this.#queue ?? [];
    this.#queue = null;
    this.#phase = PASSING;
    try {
      if (this.#ended !== null) restoreEndedState(this.#res, this.#ended);
      for (const [method, args] of queue) this.#run(method, args);
    } catch (error) {
      // The application would have seen this throw (an invalid header, say) synchronously; now nobody can catch it.
      this.#reporter.report(error);
      this.#res.destroy();
      return;
    }
    this.#settleDrain();
  }

  #fail(error: unknown): void {
    this.#phase = FAILED;
    this.#queue = null;
    this.#reporter.report(error);
    const res = this.#res;
    if (!res.headersSent && !res.destroyed) {
      const response = sessionFailureResponse(error);
      for (const name of REPLACED_RESPONSE_HEADERS) res.removeHeader(name);
      for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
      this.#addSessionHeaders();
      this.#headersAdded = true;
      this.#original.writeHead.call(res, response.status, response.reason);
      this.#original.end.call(res, response.body);
    }
    this.#settleDrain();
  }

  #settleDrain(): void {
    if (!this.#owesDrain) return;
    this.#owesDrain = false;
    // If the real stream is full, it emits 'drain' itself when it empties.
    if (!this.#res.writableNeedDrain) this.#res.emit('drain');
  }

  /**
   * Before the status line: the headers given to writeHead are applied as
   * setHeader calls (Set-Cookie appended, so neither the application's
   * cookies nor ours are lost), then the session's own headers are added.
   */
  #addHeaders(args: unknown[]): unknown[] {
    const res = this.#res;
    if (this.#headersAdded || res.headersSent) return args;
    this.#headersAdded = true;
    const [status, second, third] = args;
    const reason = typeof second === 'string' ? second : undefined;
    const headers = reason === undefined ? second : third;
    if (headers !== undefined && headers !== null && typeof headers === 'object') {
      applyHeaderArgument(res, headers as object);
      args = reason === undefined ? [status] : [status, reason];
    }
    this.#addSessionHeaders();
    return args;
  }

  #addSessionHeaders(): void {
    const res = this.#res;
    const vary = varyWithCookie(res.getHeader('vary'));
    if (vary !== undefined) res.setHeader('vary', vary);
    const cookies = this.#ctx.setCookies;
    if (cookies !== null) {
      res.appendHeader('set-cookie', cookies as string[]);
      // A response that sets a session cookie must never be stored by a shared cache.
      res.setHeader('cache-control', 'no-store');
    }
  }
}

function endedStateOf(res: ServerResponse): EndedState {
  const headers: Record<string, HeaderValue> = {};
  const current = res.getHeaders();
  for (const name in current) {
    const value = current[name];
    headers[name] = Array.isArray(value) ? [...value] : (value as HeaderValue);
  }
  return { statusCode: res.statusCode, statusMessage: res.statusMessage, headers };
}

function sameHeaderValue(a: HeaderValue, b: HeaderValue): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return a === b;
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** Puts back status and headers as they were at the end (what changed since: a second response being built). */
function restoreEndedState(res: ServerResponse, ended: EndedState): void {
  res.statusCode = ended.statusCode;
  res.statusMessage = ended.statusMessage;
  const current = res.getHeaders();
  for (const name in current) if (!(name in ended.headers)) res.removeHeader(name);
  for (const name in ended.headers) {
    const value = ended.headers[name];
    if (value !== undefined && !sameHeaderValue(current[name] as HeaderValue, value)) res.setHeader(name, value as string | number | string[]);
  }
}

/** writeHead's headers argument, as node:http applies it (an object, [name, value] pairs, or a flat array), but Set-Cookie is appended. */
function applyHeaderArgument(res: ServerResponse, headers: object): void {
  const put = (name: unknown, value: unknown, append: boolean): void => {
    if (typeof name !== 'string' || name === '') return;
    if (append || name.toLowerCase() === 'set-cookie') res.appendHeader(name, value as string | string[]);
    else res.setHeader(name, value as string | string[]);
  };
  if (!Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers)) put(name, value, false);
    return;
  }
  if (headers.length > 0 && Array.isArray(headers[0])) {
    for (const pair of headers as unknown[][]) put(pair[0], pair[1], true);
    return;
  }
  // A flat [name, value, name, value] list replaces earlier values of its names but may repeat a name itself.
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    if (typeof name === 'string' && name.toLowerCase() !== 'set-cookie') res.removeHeader(name);
  }
  for (let i = 0; i + 1 < headers.length; i += 2) put(headers[i], headers[i + 1], true);
}
