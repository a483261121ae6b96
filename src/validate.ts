/**
 * The checks every option goes through, with one message template:
 * `<option> must be <constraint>; received <what was given>`. Shared by the
 * manager's config (config.ts) and each store's options.
 *
 * Messages reach logs, so a value that may be a secret (a key, a password, a
 * URI with a password) is described by its type and length only.
 */
import { SessionConfigError } from './errors.ts';

/** A URI whose authority carries a password: scheme://user:password@host… */
const URI_WITH_PASSWORD = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@]*:[^/?#]*@/;
/** A query parameter that names a secret (mysql2 reads options from the URI's query too). */
const SECRET_QUERY_PARAMETER = /[?&][^=&#]*(?:pass|secret|token|key)[^=&#]*=/i;
/** What key material looks like when pasted as text: base64, base64url or hex of 20 bytes or more. */
const KEY_LIKE_TEXT = /^(?:[A-Za-z0-9+/]{27,}={0,2}|[A-Za-z0-9_-]{27,}|[0-9A-Fa-f]{40,})$/;

function looksLikeKey(text: string): boolean {
  if (text.length > 1024 || !KEY_LIKE_TEXT.test(text)) return false;
  // Random base64 mixes cases and digits; a name or a path in one case does not.
  return /^[0-9A-Fa-f]+$/.test(text) || (/[a-z]/.test(text) && /[A-Z]/.test(text) && /[0-9]/.test(text));
}

/** Type and size only: what a message may say about a secret. */
export function describeSecret(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.constructor.name} of ${value.byteLength} bytes`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value}`;
}

/** True for text that must not be echoed even where the option is not a secret: it carries a password or looks like a key. */
function looksSecret(text: string): boolean {
  return URI_WITH_PASSWORD.test(text) || (text.includes('://') && SECRET_QUERY_PARAMETER.test(text)) || looksLikeKey(text);
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.constructor.name} of ${value.byteLength} bytes`;
  if (typeof value === 'string') {
    if (looksSecret(value)) return `${describeSecret(value)} (not shown: it may hold a password or key)`;
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function reject(option: string, constraint: string, value: unknown): never {
  throw new SessionConfigError(`${option} must be ${constraint}; received ${describeValue(value)}`);
}

/** reject() for an option that holds a secret: the message gives the value's type and length, never the value. */
export function rejectSecret(option: string, constraint: string, value: unknown): never {
  throw new SessionConfigError(`${option} must be ${constraint}; received ${describeSecret(value)}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function optionalObject(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) reject(option, 'an object', value);
  return value;
}

export function positiveInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    reject(option, 'a positive integer', value);
  }
  return value;
}

export function nonNegativeInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    reject(option, 'a non-negative integer', value);
  }
  return value;
}

export function booleanOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') reject(option, 'a boolean', value);
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    reject(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

export function matching(option: string, value: unknown, pattern: RegExp, constraint: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !pattern.test(value)) reject(option, constraint, value);
  return value;
}

// ------------------------------------------------------------ unknown options

/** Case, '_' and '-' never make two option names different to a human: `cookie_secure` means cookieSecure. */
function normalizedName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Optimal-string-alignment distance: edits, with a swap of two neighbours counted as one. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known name a typo most likely meant, or undefined when none is close (a third of the name's length, at most 3 edits). */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const wanted = normalizedName(name);
  if (wanted.length === 0 || wanted.length > 64) return undefined;
  const allowed = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalizedName(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The printable form of an unknown key: short, and never a secret someone pasted as a key. */
function printableKey(key: string): string {
  const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return looksSecret(key) ? `(${describeSecret(key)})` : JSON.stringify(shown).slice(1, -1);
}

/**
 * Refuses keys of `object` that are not in `known`, with one line per
 * unknown key naming it and what to use instead: the `hints` entry for that
 * key (another library's option, say), else the nearest known name ("did you
 * mean cookieSecure?"), else the list of known names.
 *
 * `scope` is '' for the top level of the config, else the option's name
 * ('cache', 'filesystem'): keys are reported as `cache.maxByte`.
 */
export function assertKnownKeys(
  scope: string,
  object: Record<string, unknown>,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  const unknown = Object.keys(object).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const qualified = (key: string): string => (scope === '' ? key : `${scope}.${key}`);
  let listKnown = false;
  const lines = unknown.slice(0, 20).map((key) => {
    const name = qualified(printableKey(key));
    const hint = Object.prototype.hasOwnProperty.call(hints, key) ? hints[key] : undefined;
    if (hint !== undefined) return `unknown option ${name}: ${hint}`;
    const near = nearestName(key, known);
    if (near !== undefined) return `unknown option ${name}: did you mean ${qualified(near)}?`;
    listKnown = true;
    return `unknown option ${name}`;
  });
  if (unknown.length > lines.length) lines.push(`… and ${unknown.length - lines.length} more unknown options`);
  if (listKnown) lines.push(`${scope === '' ? 'config' : scope} options are: ${known.join(', ')}`);
  throw new SessionConfigError(lines.join('\n'));
}
