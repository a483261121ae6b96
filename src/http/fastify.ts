/**
 * `rockstar-session/fastify`: a Fastify 5 plugin.
 *
 *   await app.register(sessionPlugin, { manager });
 *   app.post('/login', async (request) => {
 *     request.session.data.user_id = user.id;
 *     await request.session.regenerate();      // a new id at login
 *     return { ok: true };                     // saved (and the cookie set) before this goes out
 *   });
 *
 * The same behaviour as rockstar-session/express: `request.session` is a
 * RequestSession (request-session.ts), loaded in an onRequest hook (a
 * cookie naming no live session gives a fresh one, never an error) and
 * committed in an onSend hook, before the headers go out: saved when
 * changed, refreshed when not. A store that cannot be read is answered 503
 * with Retry-After; a failed save replaces the reply with the error's
 * status (responseForError). Both reach `onError`.
 *
 * The plugin is not encapsulated (Symbol.for('skip-override'), what
 * fastify-plugin sets): registered on the root, it covers every route.
 * Replies sent with reply.hijack() or written to reply.raw bypass onSend,
 * and with it the session's commit. Fastify is used for its types only.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionManager } from '../manager.ts';
import type { DefaultSessionData } from '../session-data.ts';
import { REPLACED_RESPONSE_HEADERS, sessionFailureResponse } from './error-response.ts';
import { FrameworkContext, varyWithCookie } from './framework-context.ts';
import { loadRequestSession, RequestSession, type FailureReporter } from './request-session.ts';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions } from './session-options.ts';

export { RequestSession } from './request-session.ts';
export type { SessionOptions, RequestInfo } from './session-options.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's session (rockstar-session/fastify). Its data is typed by the augmentable SessionData interface. */
    session: RequestSession<DefaultSessionData>;
  }
}

export interface SessionPluginOptions<Data extends object = DefaultSessionData> extends SessionOptions {
  manager: SessionManager<Data>;
}

/** Where the plugin keeps each request's context (the app may reassign request.session; this stays ours). */
const CONTEXT = Symbol('rockstar-session.context');
type WithContext = FastifyRequest & { [CONTEXT]: FastifyContext | null };

/** Options Fastify itself passes to every plugin, besides ours. */
const FASTIFY_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers']);

class FastifyContext extends FrameworkContext implements FailureReporter {
  readonly #request: FastifyRequest;
  readonly #onError: ResolvedSessionOptions['onError'];
  session: RequestSession<object> | null = null;

  constructor(request: FastifyRequest, cookieName: string, onError: ResolvedSessionOptions['onError']) {
    const headers = request.headers;
    super(headers.cookie, headers['user-agent'], cookieName);
    this.#request = request;
    this.#onError = onError;
  }

  protected clientAddress(): string | undefined {
    // request.ip honours Fastify's trustProxy setting.
    return this.#request.ip;
  }

  get requestPath(): string {
    const url = this.#request.url;
    const mark = url.indexOf('?');
    return mark === -1 ? url : url.slice(0, mark);
  }

  get requestHost(): string | undefined {
    // Fastify 5's hostname has no port, and honours trustProxy.
    return this.#request.hostname;
  }

  report(error: unknown): void {
    try {
      this.#onError(error, { method: this.#request.method, path: this.requestPath });
    } catch (thrown) {
      console.error('[rockstar-session] onError threw:', thrown);
    }
  }
}

/** Vary on every reply; Set-Cookie and Cache-Control: no-store on those that carry the session cookie. */
function addSessionHeaders(reply: FastifyReply, ctx: FastifyContext): void {
  const vary = varyWithCookie(reply.getHeader('vary') as string | string[] | undefined);
  if (vary !== undefined) reply.header('vary', vary);
  const cookies = ctx.setCookies;
  if (cookies === null) return;
  // Fastify appends Set-Cookie values rather than replacing them: the application's own cookies stay.
  for (const cookie of cookies) reply.header('set-cookie', cookie);
  reply.header('cache-control', 'no-store');
}

/** A failed save: the reply becomes the error's response (cookies issued before the failure kept). */
function failureReply(reply: FastifyReply, ctx: FastifyContext, error: unknown, payload: unknown): string {
  ctx.report(error);
  const response = sessionFailureResponse(error);
  // A stream that will not be sent must still be released (a file descriptor, a socket).
  if (payload !== null && typeof payload === 'object' && typeof (payload as { destroy?: unknown }).destroy === 'function') (payload as { destroy(): void }).destroy();
  for (const name of REPLACED_RESPONSE_HEADERS) reply.removeHeader(name);
  reply.code(response.status);
  reply.headers(response.headers);
  addSessionHeaders(reply, ctx);
  return response.body;
}

function plugin(fastify: FastifyInstance, options: SessionPluginOptions<object>, done: (error?: Error) => void): void {
  const { manager, ...rest } = (options ?? {}) as SessionPluginOptions<object>;
  let settings: ResolvedSessionOptions;
  try {
    settings = resolveSessionOptions(manager, rest, 'sessionPlugin', FASTIFY_OPTIONS);
  } catch (error) {
    done(error as Error); // app.register(…) rejects with it
    return;
  }
  const { rolling, onError } = settings;
  const cookieName = manager.config.cookieName;

  // Typed loosely on purpose: the declared type is whatever the augmentation says, this only reserves the slot.
  fastify.decorateRequest('session' as string, null);
  fastify.decorateRequest(CONTEXT, null);

  fastify.addHook('onRequest', (request, reply, hookDone) => {
    const ctx = new FastifyContext(request, cookieName, onError);
    (request as WithContext)[CONTEXT] = ctx;
    const attach = (session: RequestSession<object>): void => {
      ctx.session = session;
      (request as { session: unknown }).session = session;
    };
    let loaded: RequestSession<object> | Promise<RequestSession<object>>;
    try {
      loaded = loadRequestSession(manager, ctx, rolling, ctx);
    } catch (error) {
      loaded = Promise.reject(error);
    }
    if (loaded instanceof RequestSession) {
      attach(loaded);
      hookDone();
      return;
    }
    loaded.then(
      (session) => {
        attach(session);
        hookDone();
      },
      (error: unknown) => {
        // Answered from the hook (hookDone is not called): the route never runs without its session.
        ctx.report(error);
        const response = sessionFailureResponse(error);
        reply.code(response.status).headers(response.headers).send(response.body);
      },
    ).catch((error: unknown) => ctx.report(error));
  });

  fastify.addHook('onSend', (request, reply, payload, hookDone) => {
    const ctx = (request as WithContext)[CONTEXT];
    const session = ctx?.session;
    if (!ctx || !session) {
      hookDone(null, payload); // answered before the session was loaded (a 503 from onRequest, a 404 of another hook)
      return;
    }
    let pending: Promise<void> | null;
    try {
      pending = session.commit();
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (pending === null) {
      addSessionHeaders(reply, ctx);
      hookDone(null, payload);
      return;
    }
    pending.then(
      () => {
        addSessionHeaders(reply, ctx);
        hookDone(null, payload);
      },
      (error: unknown) => hookDone(null, failureReply(reply, ctx, error, payload)),
    ).catch((error: unknown) => ctx.report(error));
  });

  done();
}

// What fastify-plugin does: the hooks apply to the scope the plugin is registered in, not a child of it.
Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'rockstar-session' });

/** The plugin: `await app.register(sessionPlugin, { manager, rolling?, onError? })`. Throws ERR_SESSION_CONFIG for a bad manager or option. */
export const sessionPlugin = plugin as unknown as FastifyPluginCallback<SessionPluginOptions<object>>;
