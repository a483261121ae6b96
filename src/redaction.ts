/**
 * Secrets the resolved config must hold, in forms that never print them.
 *
 * The manager, the sealers and the stores read the real values; every
 * printable form (util.inspect with any options but customInspect: false,
 * console.log, JSON.stringify, String(), template strings) shows a
 * redacted one:
 * - KeyBytes: the config's copy of a 32-byte key. A Uint8Array, so sodium,
 *   KeyRing and the worker pool take it as they are; printed as its length.
 * - withRedactedPrintables(): the `database` options. Their properties stay
 *   as given, because mysql2 needs the password; the object and every plain
 *   object or array inside it print with passwords, secret-named fields and
 *   URI passwords replaced.
 */
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/** A copy of key material that prints as its size only. zero() overwrites it (close() calls it). */
export class KeyBytes extends Uint8Array {
  // slice/subarray/map of a KeyBytes are KeyBytes too (typed arrays construct their species), so they print redacted as well.
  static copyOf(source: Uint8Array): KeyBytes {
    const copy = new KeyBytes(source.byteLength);
    copy.set(source);
    return copy;
  }

  /** Overwrites the bytes with zeros. */
  zero(): void {
    this.fill(0);
  }

  [inspect.custom](): string {
    return `KeyBytes(${this.byteLength}) ${REDACTED}`;
  }

  toJSON(): string {
    return `${REDACTED} ${this.byteLength} bytes`;
  }

  override toString(): string {
    return `${REDACTED} ${this.byteLength} bytes`;
  }

  override toLocaleString(): string {
    return this.toString();
  }
}

/** Field names whose values are secrets wherever they appear in database options (mysql2's password, password1-3, passphrase, ssl.key, …). */
const SECRET_FIELD = /pass|secret|token|credential|private|^key$|^pfx$|^auth/i;
const SECRET_QUERY_PARAMETER = /pass|secret|token|key|credential/i;

/** A URI with its password (userinfo and secret-named query parameters) replaced; text that does not parse is replaced whole when it could carry one. */
export function redactedUri(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return /[:@]/.test(text) ? REDACTED : text;
  }
  if (url.password !== '') url.password = 'redacted';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_PARAMETER.test(name)) url.searchParams.set(name, 'redacted');
  }
  return url.href;
}

function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** What a printable form shows of one database option value. */
function printableValue(field: string, value: unknown, seen: Set<unknown>): unknown {
  if (SECRET_FIELD.test(field) && value !== undefined && value !== null && value !== false) return REDACTED;
  if (typeof value === 'string') return value.includes('://') || value.includes('@') ? redactedUri(value) : value;
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (typeof value === 'function') return '[function]';
  if (isPlainContainer(value)) {
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    const out: Record<string, unknown> | unknown[] = Array.isArray(value)
      ? value.map((item, i) => printableValue(String(i), item, seen))
      : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printableValue(k, v, seen)]));
    seen.delete(value);
    return out;
  }
  if (value !== null && typeof value === 'object') return `[${value.constructor?.name ?? 'object'}]`;
  return value;
}

/** The printable form of database options: the same shape with every secret replaced. */
export function redactedDatabaseOptions(options: object): Record<string, unknown> {
  return printableValue('', options, new Set()) as Record<string, unknown>;
}

function attachPrintables(target: object, printable: () => unknown): void {
  const describe = (): string => `[database options: ${JSON.stringify(printable())}]`;
  // Non-enumerable: the stores spread these options into mysql2's, and must not carry the methods along.
  Object.defineProperties(target, {
    [inspect.custom]: { value: (_depth: number, options: object) => inspect(printable(), options) },
    toJSON: { value: printable },
    toString: { value: describe },
  });
}

/**
 * A copy of `options` (plain objects and arrays copied, anything else kept
 * as it is) whose printable forms, and those of every plain object or array
 * inside it, are redacted. Reading a property gives the real value.
 */
export function withRedactedPrintables<T extends object>(options: T): T {
  const copies = new Map<unknown, object>();
  const copy = (value: unknown): unknown => {
    if (!isPlainContainer(value)) return value;
    const known = copies.get(value);
    if (known) return known;
    const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
    copies.set(value, out);
    if (Array.isArray(out)) for (const item of value as unknown[]) out.push(copy(item));
    else for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: copy(v), enumerable: true, writable: true, configurable: true });
    attachPrintables(out, () => redactedDatabaseOptions(out));
    return out;
  };
  return copy(options) as T;
}
