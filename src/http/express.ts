/**
 * `rockstar-session/express`: session middleware for Express 4 and 5 (and
 * Connect, or anything with node:http's req/res/next).
 *
 *   app.use(sessionMiddleware(manager));
 *   app.post('/login', async (req, res) => {
 *     req.session.data.user_id = user.id;
 *     await req.session.regenerate();          // a new id at login
 *     res.json({ ok: true });                  // saved (and the cookie set) before this goes out
 *   });
 *
 * `req.session` is a RequestSession (request-session.ts): always there, the
 * cookie's session or a fresh one that stores nothing until it holds data;
 * saved when changed, refreshed (sliding expiry) when not, before the
 * response's headers go out. Typed by the SessionData interface (augment it:
 * see session-data.ts).
 *
 * A cookie that names no live session (absent, garbage, tampered, expired,
 * destroyed) gives a fresh session, never an error. A store that cannot be
 * read is answered 503 with Retry-After, and a failed save with the error's
 * status (responseForError), both reported to `onError`. Nothing here
 * returns a promise to Express or leaves one unhandled: Express 4, which
 * ignores promises, cannot crash on it.
 *
 * Mount it before the routes; body parsers may come before or after it.
 * No runtime dependency on Express: it uses node:http's request and response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionManager } from '../manager.ts';
import type { DefaultSessionData } from '../session-data.ts';
import { sessionFailureResponse } from './error-response.ts';
import { FrameworkContext } from './framework-context.ts';
import { loadRequestSession, RequestSession, type FailureReporter } from './request-session.ts';
import { ResponseHold } from './response-hold.ts';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions } from './session-options.ts';

export { RequestSession } from './request-session.ts';
export type { SessionOptions, RequestInfo } from './session-options.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** This request's session (rockstar-session/express). Its data is typed by the augmentable SessionData interface. */
      session: RequestSession<DefaultSessionData>;
    }
  }
}

/** A Connect-style middleware: what `app.use` takes in Express 4 and 5. */
export type SessionMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

type SessionRequest = IncomingMessage & { session?: RequestSession<object>; ip?: string; hostname?: string; originalUrl?: string };

function pathOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? url : url.slice(0, mark);
}

/** The request's SessionContext, and where its failures are reported. */
class ExpressContext extends FrameworkContext implements FailureReporter {
  readonly #req: SessionRequest;
  readonly #onError: ResolvedSessionOptions['onError'];

  constructor(req: SessionRequest, cookieName: string, onError: ResolvedSessionOptions['onError']) {
    const headers = req.headers;
    super(headers.cookie, headers['user-agent'], cookieName);
    this.#req = req;
    this.#onError = onError;
  }

  protected clientAddress(): string | undefined {
    // Express's req.ip honours its 'trust proxy' setting; plain node and Connect have only the socket.
    return this.#req.ip ?? this.#req.socket.remoteAddress;
  }

  get requestPath(): string {
    return pathOf(this.#req.originalUrl ?? this.#req.url ?? '/');
  }

  get requestHost(): string | undefined {
    // Express's req.hostname honours 'trust proxy' and drops the port; without Express, the Host header's name.
    const host = this.#req.hostname ?? this.#req.headers.host;
    return host?.replace(/:\d+$/, '');
  }

  report(error: unknown): void {
    try {
      this.#onError(error, { method: this.#req.method ?? 'GET', path: this.requestPath });
    } catch (thrown) {
      // An onError that throws must not turn a handled failure into a crash.
      console.error('[rockstar-session] onError threw:', thrown);
    }
  }
}

/**
 * The session middleware. Options: `rolling` (default true) and `onError`
 * (see SessionOptions). Throws ERR_SESSION_CONFIG for a bad manager or option.
 */
export function sessionMiddleware<Data extends object>(manager: SessionManager<Data>, options?: SessionOptions): SessionMiddleware {
  const settings = resolveSessionOptions(manager, options, 'sessionMiddleware');
  const cookieName = manager.config.cookieName;
  const { rolling, onError } = settings;

  function attach(req: SessionRequest, res: ServerResponse, ctx: ExpressContext, session: RequestSession<Data>): void {
    req.session = session as unknown as RequestSession<object>;
    ResponseHold.install(res, session as unknown as RequestSession<object>, ctx, ctx);
  }

  return function rockstarSession(incoming, res, next) {
    const req = incoming as SessionRequest;
    if (req.session instanceof RequestSession) {
      next(); // mounted twice (an app and a sub-app): the first one owns this request
      return;
    }
    const ctx = new ExpressContext(req, cookieName, onError);
    let loaded: RequestSession<Data> | Promise<RequestSession<Data>>;
    try {
      loaded = loadRequestSession(manager, ctx, rolling, ctx);
    } catch (error) {
      loaded = Promise.reject(error); // a closed manager throws before its first await
    }
    if (loaded instanceof RequestSession) {
      attach(req, res, ctx, loaded);
      next();
      return;
    }
    loaded.then(
      (session) => {
        attach(req, res, ctx, session);
        next();
      },
      (error: unknown) => {
        ctx.report(error);
        answerFailure(res, error);
      },
    ).catch((error: unknown) => ctx.report(error));
  };
}

/** The store could not be read: the request is answered here (503 with Retry-After for an outage), never passed on half-done. */
function answerFailure(res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const response = sessionFailureResponse(error);
  res.writeHead(response.status, response.reason, response.headers);
  res.end(response.body);
}
