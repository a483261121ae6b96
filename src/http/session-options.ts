/** Options of the Express middleware and the Fastify plugin, validated once when they are set up. */
import { SessionConfigError } from '../errors.ts';
import { SessionManager } from '../manager.ts';
import { responseForError } from './errors-to-status.ts';
import type { RequestInfo } from './options.ts';

export type { RequestInfo } from './options.ts';

export interface SessionOptions {
  /**
   * Sliding expiry (express-session's `rolling`). Default true: a request
   * that reads a session without changing it calls `manager.refresh`, which
   * extends the expiry and re-issues the cookie at most once per
   * `touchThreshold` (so most requests write nothing and set no cookie).
   * False: the expiry moves only when the session is saved.
   */
  rolling?: boolean;
  /**
   * Receives every failure of the session layer's own work: a store that
   * could not be read (answered 503), an automatic save that failed (answered
   * with the error's status), a sliding-expiry refresh that could not be
   * written (the response goes out anyway). Default: console.error for those
   * that responseForError marks worth logging (5xx, but not overload or
   * shutdown).
   */
  onError?: (error: unknown, request: RequestInfo) => void;
}

export interface ResolvedSessionOptions {
  readonly rolling: boolean;
  readonly onError: (error: unknown, request: RequestInfo) => void;
}

const KNOWN = new Set(['rolling', 'onError']);

function logWorthLogging(error: unknown, request: RequestInfo): void {
  if (responseForError(error).log) console.error(`[rockstar-session] ${request.method} ${request.path}: session failure:`, error);
}

/** Checks the manager and options; `where` names the caller in messages; `ignored` lists keys a framework adds to options itself. */
export function resolveSessionOptions(manager: unknown, options: unknown, where: string, ignored: ReadonlySet<string> = new Set()): ResolvedSessionOptions {
  if (!(manager instanceof SessionManager)) {
    throw new SessionConfigError(`${where}: manager must be a SessionManager from createSessionManager(); received ${manager === null ? 'null' : typeof manager}`);
  }
  if (options === undefined) return { rolling: true, onError: logWorthLogging };
  if (options === null || typeof options !== 'object') throw new SessionConfigError(`${where}: options must be an object; received ${options === null ? 'null' : typeof options}`);
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key) && !ignored.has(key)) throw new SessionConfigError(`${where}: unknown option ${JSON.stringify(key)} (known: ${[...KNOWN].join(', ')})`);
  }
  const rolling = given.rolling ?? true;
  if (typeof rolling !== 'boolean') throw new SessionConfigError(`${where}: rolling must be a boolean; received ${typeof given.rolling}`);
  const onError = given.onError ?? logWorthLogging;
  if (typeof onError !== 'function') throw new SessionConfigError(`${where}: onError must be a function; received ${typeof given.onError}`);
  return Object.freeze({ rolling, onError: onError as ResolvedSessionOptions['onError'] });
}
