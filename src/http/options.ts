/** Options shared by the uWS and node:http adapters, validated once when a handler is wrapped. */
import { SessionConfigError } from '../errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from './body.ts';
import { TrustedProxies } from './client-ip.ts';

export interface RequestInfo {
  readonly method: string;
  readonly path: string;
}

export interface AdapterOptions {
  /**
   * Peers whose X-Forwarded-For is believed: addresses or CIDR ranges
   * ('127.0.0.1', '10.0.0.0/8', 'fd00::/8'). Default none: the client
   * address is always the socket's, whatever headers say.
   */
  trustedProxies?: readonly string[];
  /** Largest request body read, in bytes; more is a 413. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Further request headers (lower-case names) to copy for `exchange.header()`.
   * Cookie, User-Agent, Content-Type and Content-Length are always copied.
   * Every line of a repeated header counts, joined as node:http joins them.
   */
  headers?: readonly string[];
  /**
   * Receives failures that became a 500 (or happened after the response was
   * sent). Default: console.error. The client only ever sees a generic body.
   */
  onError?: (error: unknown, request: RequestInfo) => void;
}

export interface ResolvedAdapterOptions {
  readonly proxies: TrustedProxies;
  readonly maxBodyBytes: number;
  readonly headers: readonly string[];
  /** The same names as a set for the per-line lookup on uWS, or null when none are listed. */
  readonly headerNames: ReadonlySet<string> | null;
  readonly onError: (error: unknown, request: RequestInfo) => void;
}

function logToConsole(error: unknown, request: RequestInfo): void {
  console.error(`[rockstar-session] ${request.method} ${request.path} failed:`, error);
}

export function resolveAdapterOptions(options: AdapterOptions = {}): ResolvedAdapterOptions {
  if (options === null || typeof options !== 'object') throw new SessionConfigError(`adapter options must be an object; received ${options}`);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new SessionConfigError(`maxBodyBytes must be a non-negative integer; received ${String(options.maxBodyBytes)}`);
  }
  const headers = options.headers ?? [];
  if (!Array.isArray(headers) || headers.some((h) => typeof h !== 'string' || h.length === 0 || h !== h.toLowerCase())) {
    throw new SessionConfigError('headers must be an array of lower-case header names');
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new SessionConfigError(`onError must be a function; received ${typeof options.onError}`);
  }
  return Object.freeze({
    proxies: new TrustedProxies(options.trustedProxies ?? []),
    maxBodyBytes,
    headers: Object.freeze([...headers]),
    headerNames: headers.length > 0 ? new Set(headers) : null,
    onError: options.onError ?? logToConsole,
  });
}
