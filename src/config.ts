/**
 * SessionConfig: the seed's SessionConfig in camelCase, plus what the engine
 * adds. validateConfig() is the one place options are checked; the hot path
 * trusts the frozen ResolvedConfig it returns.
 */
import { availableParallelism } from 'node:os';
import { CACHE_HINTS, CRYPTO_HINTS, TOP_LEVEL_HINTS } from './config-hints.ts';
import { KeyBytes, withRedactedPrintables } from './redaction.ts';
import { validateDatabaseOptions, type DatabaseOptions } from './stores/mysql-options.ts';
import { validateFilesystemOptions, type FilesystemOptions } from './stores/fs-options.ts';
import {
  assertKnownKeys,
  booleanOption,
  isPlainObject,
  matching,
  nonNegativeInteger,
  oneOf,
  optionalObject,
  positiveInteger,
  reject,
  rejectSecret,
} from './validate.ts';

export type { DatabaseOptions } from './stores/mysql-options.ts';
export type { FilesystemOptions } from './stores/fs-options.ts';

export type StorageType = 'database' | 'cache' | 'filesystem';
export type SameSite = 'Strict' | 'Lax' | 'None';
export type CryptoMode = 'auto' | 'pool' | 'inline';

const HOUR = 60 * 60 * 1000;
const KEY_BYTES = 32;

export interface CacheOptions {
  /** Byte budget of the LRU (sealed bytes plus bookkeeping). Default 64 MiB. */
  maxBytes?: number;
  /**
   * How long a cached record may be served without asking the backing store,
   * in ms. Only matters when several processes share one store: a record
   * changed by another process is seen here at most this late. Default 1000.
   * 0 sends every read to the store.
   */
  staleMs?: number;
}

export interface CryptoOptions {
  /** 'auto' (default): batches above measured thresholds go to the worker pool. */
  mode?: CryptoMode;
  /** Worker threads. Default: available cores minus the event loop's, at least 1. */
  threads?: number;
  /** Operations that may wait for the pool before calls reject with ERR_SESSION_OVERLOADED. Default 10 000. */
  maxQueue?: number;
}

export interface SessionConfig {
  /** 'database' (the seed's default), 'cache' (in-process LRU) or 'filesystem'. */
  storageType?: StorageType;
  /**
   * Default 'rockstar_session'. RFC 6265 token characters only. Over https,
   * '__Host-session' is recommended: browsers then refuse the cookie from
   * sibling subdomains and plain http, so nobody can plant one. The prefixes
   * '__Host-', '__Secure-', '__Http-' and '__Host-Http-' are checked against
   * cookieSecure, cookiePath, cookieDomain and cookieHttpOnly, because
   * browsers silently drop a cookie that breaks its prefix's rules.
   */
  cookieName?: string;
  /** Default '/'. */
  cookiePath?: string;
  /** Default '' (host-only cookie). */
  cookieDomain?: string;
  /** Default true. */
  cookieSecure?: boolean;
  /** Default true. */
  cookieHttpOnly?: boolean;
  /** Default 'Lax'. 'None' requires cookieSecure. */
  cookieSameSite?: SameSite;
  /** Idle lifetime in ms: a session not refreshed or saved for this long expires. Default 24 h. */
  sessionLifetime?: number;
  /** Hard cap in ms from creation, whatever the activity. Default 7 × sessionLifetime. */
  absoluteLifetime?: number;
  /** 32 bytes of key material (required). Subkeys are derived from it; it is never used directly. */
  encryptionKey: Uint8Array;
  /** Older keys, newest first: they open old cookies and records, which are re-sealed with encryptionKey on their next write. */
  previousKeys?: readonly Uint8Array[];
  /** Root directory of the filesystem store. Default './sessions'. */
  filesystemPath?: string;
  /** ms between automatic cleanupExpired() runs. Default 1 h. 0 turns the timer off. */
  cleanupInterval?: number;
  /** refresh() skips its write when the last extension is younger than this many ms. Default min(60 s, sessionLifetime / 10). */
  touchThreshold?: number;
  /** Largest encoded session data in bytes; larger saves fail with ERR_SESSION_DATA. Default 64 KiB. */
  maxDataBytes?: number;
  /** Clock in ms since the epoch. Default Date.now. Tests inject one instead of sleeping. */
  now?: () => number;
  cache?: CacheOptions;
  crypto?: CryptoOptions;
  database?: DatabaseOptions;
  filesystem?: FilesystemOptions;
  /** Receives failures nobody awaits (the cleanup timer's). Default: process.emitWarning. */
  onError?: (error: Error) => void;
}

export interface ResolvedConfig {
  readonly storageType: StorageType;
  readonly cookieName: string;
  readonly cookiePath: string;
  readonly cookieDomain: string;
  readonly cookieSecure: boolean;
  readonly cookieHttpOnly: boolean;
  readonly cookieSameSite: SameSite;
  readonly sessionLifetime: number;
  readonly absoluteLifetime: number;
  /** A copy that prints as its length only (KeyBytes); zeroed by the manager's close(). */
  readonly encryptionKey: Uint8Array;
  /** Copies that print as their length only; zeroed by the manager's close(). */
  readonly previousKeys: readonly Uint8Array[];
  readonly filesystemPath: string;
  readonly cleanupInterval: number;
  readonly touchThreshold: number;
  readonly maxDataBytes: number;
  readonly now: () => number;
  readonly cache: Readonly<Required<CacheOptions>>;
  readonly crypto: Readonly<Required<CryptoOptions>>;
  /** The options as given (the store needs the password); printed, they show no password (redaction.ts). */
  readonly database: Readonly<DatabaseOptions> | undefined;
  readonly filesystem: Readonly<Required<FilesystemOptions>>;
  readonly onError: (error: Error) => void;
}

/** RFC 6265 cookie-name: an RFC 7230 token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A path attribute value: printable ASCII without ';'. */
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;
/** A domain attribute value: an optional leading dot, then DNS labels. */
const COOKIE_DOMAIN = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Every key of SessionConfig and of its nested option objects, so that an
 * unknown one (a typo, another library's option) is refused by name. Typed
 * as a Record over the interface's keys: a new option that is not added
 * here is a compile error, not a silently refused key.
 */
const SESSION_CONFIG_KEYS = Object.keys({
  storageType: 1, cookieName: 1, cookiePath: 1, cookieDomain: 1, cookieSecure: 1, cookieHttpOnly: 1, cookieSameSite: 1,
  sessionLifetime: 1, absoluteLifetime: 1, encryptionKey: 1, previousKeys: 1, filesystemPath: 1, cleanupInterval: 1,
  touchThreshold: 1, maxDataBytes: 1, now: 1, cache: 1, crypto: 1, database: 1, filesystem: 1, onError: 1,
} satisfies Record<keyof SessionConfig, 1>);
const CACHE_KEYS = Object.keys({ maxBytes: 1, staleMs: 1 } satisfies Record<keyof CacheOptions, 1>);
const CRYPTO_KEYS = Object.keys({ mode: 1, threads: 1, maxQueue: 1 } satisfies Record<keyof CryptoOptions, 1>);

function key32(option: string, value: unknown): KeyBytes {
  if (!(value instanceof Uint8Array) || value.byteLength !== KEY_BYTES) {
    rejectSecret(option, `a Uint8Array (or Buffer) of exactly ${KEY_BYTES} bytes, e.g. Buffer.from(base64Key, 'base64')`, value);
  }
  // Copy: later changes to the caller's buffer must not change our keys. KeyBytes: printed, it shows its length only.
  return KeyBytes.copyOf(value);
}

/**
 * Cookie-name prefixes (RFC 6265bis section 4.1.3, and the __Http- prefixes
 * of the cookie-layering draft). Browsers match them case-insensitively and
 * silently drop a cookie that breaks their rules, so a misconfigured one
 * would only show up as "nobody can log in".
 */
const COOKIE_PREFIXES = [
  { prefix: '__Host-Http-', secure: true, hostOnlyRoot: true, httpOnly: true },
  { prefix: '__Host-', secure: true, hostOnlyRoot: true, httpOnly: false },
  { prefix: '__Http-', secure: true, hostOnlyRoot: false, httpOnly: true },
  { prefix: '__Secure-', secure: true, hostOnlyRoot: false, httpOnly: false },
] as const;

function assertCookiePrefixRules(name: string, secure: boolean, httpOnly: boolean, path: string, domain: string): void {
  const rule = COOKIE_PREFIXES.find(({ prefix }) => name.toLowerCase().startsWith(prefix.toLowerCase()));
  if (!rule) return;
  const { prefix } = rule;
  if (!name.startsWith(prefix)) {
    // Newer browsers enforce a prefix in any case, older ones only spelled exactly: only the exact spelling protects everywhere.
    reject('cookieName', `spelled with the exact prefix '${prefix}' (browsers that compare it case-sensitively would not protect it)`, name);
  }
  const why = `for a cookie named ${prefix}… (browsers silently drop it otherwise)`;
  if (rule.secure && !secure) reject('cookieSecure', `true ${why}`, secure);
  if (rule.hostOnlyRoot && path !== '/') reject('cookiePath', `'/' ${why}`, path);
  if (rule.hostOnlyRoot && domain !== '') reject('cookieDomain', `empty (a host-only cookie) ${why}`, domain);
  if (rule.httpOnly && !httpOnly) reject('cookieHttpOnly', `true ${why}`, httpOnly);
}

/**
 * Zeroes the config's copies of the keys (close() calls it once nothing
 * needs them). The KeyRing's subkeys are zeroed by KeyRing.zero().
 */
export function zeroConfigKeys(config: ResolvedConfig): void {
  config.encryptionKey.fill(0);
  for (const key of config.previousKeys) key.fill(0);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function defaultOnError(error: Error): void {
  process.emitWarning(error, { code: 'ROCKSTAR_SESSION_BACKGROUND_ERROR' } as never);
}

/** Checks every option once and returns the frozen, defaulted configuration. */
export function validateConfig(input: unknown): ResolvedConfig {
  // Type only: a string handed over by mistake may well be the key itself.
  if (!isPlainObject(input)) rejectSecret('config', 'an object', input);
  const config = input as Record<string, unknown>;
  // First: a misspelt or foreign option is the likeliest cause of every other complaint (`secret` given, so no encryptionKey).
  assertKnownKeys('', config, SESSION_CONFIG_KEYS, TOP_LEVEL_HINTS);

  const storageType = oneOf<StorageType>('storageType', config.storageType, ['database', 'cache', 'filesystem'], 'database');
  const cookieName = matching('cookieName', config.cookieName, COOKIE_NAME, 'a cookie name of RFC 6265 token characters', 'rockstar_session');
  const cookiePath = matching('cookiePath', config.cookiePath, COOKIE_PATH, "a path starting with '/' without ';' or control characters", '/');
  const cookieDomain =
    config.cookieDomain === '' ? '' : matching('cookieDomain', config.cookieDomain, COOKIE_DOMAIN, 'empty or a domain name', '');
  const cookieSecure = booleanOption('cookieSecure', config.cookieSecure, true);
  const cookieHttpOnly = booleanOption('cookieHttpOnly', config.cookieHttpOnly, true);
  const cookieSameSite = oneOf<SameSite>('cookieSameSite', config.cookieSameSite, ['Strict', 'Lax', 'None'], 'Lax');
  if (cookieSameSite === 'None' && !cookieSecure) {
    reject('cookieSameSite', "'Lax' or 'Strict' when cookieSecure is false (browsers drop SameSite=None cookies without Secure)", cookieSameSite);
  }
  assertCookiePrefixRules(cookieName, cookieSecure, cookieHttpOnly, cookiePath, cookieDomain);

  const sessionLifetime = positiveInteger('sessionLifetime', config.sessionLifetime, 24 * HOUR);
  const absoluteLifetime = positiveInteger('absoluteLifetime', config.absoluteLifetime, 7 * sessionLifetime);
  if (absoluteLifetime < sessionLifetime) {
    reject('absoluteLifetime', `at least sessionLifetime (${sessionLifetime} ms)`, absoluteLifetime);
  }

  if (config.encryptionKey === undefined) rejectSecret('encryptionKey', `given: ${KEY_BYTES} bytes of random key material`, undefined);
  const encryptionKey = key32('encryptionKey', config.encryptionKey);
  let previousKeys: KeyBytes[] = [];
  if (config.previousKeys !== undefined) {
    if (!Array.isArray(config.previousKeys)) rejectSecret('previousKeys', 'an array of 32-byte keys', config.previousKeys);
    previousKeys = config.previousKeys.map((key, i) => key32(`previousKeys[${i}]`, key));
    previousKeys.forEach((key, i) => {
      if (sameBytes(key, encryptionKey)) rejectSecret(`previousKeys[${i}]`, 'different from encryptionKey', key);
    });
  }

  const filesystemPath = config.filesystemPath ?? './sessions';
  if (typeof filesystemPath !== 'string' || filesystemPath.length === 0 || filesystemPath.includes('\0')) {
    reject('filesystemPath', 'a non-empty path without NUL', config.filesystemPath);
  }
  const cleanupInterval = nonNegativeInteger('cleanupInterval', config.cleanupInterval, HOUR);
  if (cleanupInterval > 2 ** 31 - 1) reject('cleanupInterval', `at most ${2 ** 31 - 1} ms (the timer limit)`, cleanupInterval);
  const touchThreshold = nonNegativeInteger('touchThreshold', config.touchThreshold, Math.min(60_000, Math.floor(sessionLifetime / 10)));
  if (touchThreshold >= sessionLifetime) reject('touchThreshold', `below sessionLifetime (${sessionLifetime} ms)`, touchThreshold);
  const maxDataBytes = positiveInteger('maxDataBytes', config.maxDataBytes, 64 * 1024);

  if (config.now !== undefined && typeof config.now !== 'function') reject('now', 'a function returning ms since the epoch', config.now);
  const now = (config.now as (() => number) | undefined) ?? Date.now;
  if (config.onError !== undefined && typeof config.onError !== 'function') reject('onError', 'a function', config.onError);
  const onError = (config.onError as ((e: Error) => void) | undefined) ?? defaultOnError;

  const cacheIn = optionalObject('cache', config.cache);
  assertKnownKeys('cache', cacheIn, CACHE_KEYS, CACHE_HINTS);
  const cache = Object.freeze({
    maxBytes: positiveInteger('cache.maxBytes', cacheIn.maxBytes, 64 * 1024 * 1024),
    staleMs: nonNegativeInteger('cache.staleMs', cacheIn.staleMs, 1000),
  });

  const cryptoIn = optionalObject('crypto', config.crypto);
  assertKnownKeys('crypto', cryptoIn, CRYPTO_KEYS, CRYPTO_HINTS);
  const crypto = Object.freeze({
    mode: oneOf<CryptoMode>('crypto.mode', cryptoIn.mode, ['auto', 'pool', 'inline'], 'auto'),
    threads: positiveInteger('crypto.threads', cryptoIn.threads, Math.max(1, availableParallelism() - 1)),
    maxQueue: positiveInteger('crypto.maxQueue', cryptoIn.maxQueue, 10_000),
  });

  const filesystem = validateFilesystemOptions(config.filesystem);

  // Redacted printable forms: the options stay as given (mysql2 needs the password), but printing them shows none.
  const validatedDatabase = validateDatabaseOptions(config.database, storageType);
  const database = validatedDatabase && Object.freeze(withRedactedPrintables(validatedDatabase));

  return Object.freeze({
    storageType,
    cookieName,
    cookiePath,
    cookieDomain,
    cookieSecure,
    cookieHttpOnly,
    cookieSameSite,
    sessionLifetime,
    absoluteLifetime,
    encryptionKey,
    previousKeys: Object.freeze(previousKeys),
    filesystemPath,
    cleanupInterval,
    touchThreshold,
    maxDataBytes,
    now,
    cache,
    crypto,
    database,
    filesystem,
    onError,
  });
}
