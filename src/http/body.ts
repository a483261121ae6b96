/**
 * Request body parsing shared by the adapters: JSON and HTML-form bodies,
 * read into memory under a byte bound.
 *
 * Text must be valid UTF-8, in the body and in every percent-escape of a
 * form: a lenient decoder turns each bad byte into U+FFFD, so two different
 * usernames (or product ids) would read as the same string. Such a body is
 * a 400 ERR_HTTP_BAD_BODY instead.
 */
import { HttpError } from './http-error.ts';

/** Default request body bound. Session apps post credentials and small forms, not uploads. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function bodyTooLarge(limit: number): HttpError {
  return new HttpError(413, 'ERR_HTTP_BODY_TOO_LARGE', `request body is over the ${limit}-byte limit`);
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Throws on invalid UTF-8 instead of substituting U+FFFD. A leading BOM is kept (JSON.parse then refuses it, as before). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function notUtf8(where: string): HttpError {
  return new HttpError(400, 'ERR_HTTP_BAD_BODY', `request body ${where} is not valid UTF-8`);
}

/** `bytes` as UTF-8 text; a 400 ERR_HTTP_BAD_BODY naming `where` ('text', 'form field') when they are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw notUtf8(where);
  }
}

export function parseJson(body: Buffer): unknown {
  const text = decodeUtf8(body, 'text');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'ERR_HTTP_BAD_BODY', 'request body is not valid JSON', { cause: error });
  }
}

/**
 * One name or value of a form, '+' and percent-escapes decoded, with the
 * escaped bytes held to UTF-8: decodeURIComponent throws where
 * URLSearchParams would put U+FFFD. A '%' not followed by two hex digits
 * stays as it is, as in URLSearchParams.
 */
function decodeFormComponent(raw: string): string {
  const spaced = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  } catch {
    throw notUtf8('form field');
  }
}

/** application/x-www-form-urlencoded into a plain object (null prototype; last value of a repeated name wins). */
export function parseForm(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  const text = decodeUtf8(body, 'form');
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeFormComponent(equals === -1 ? pair : pair.slice(0, equals));
    fields[name] = equals === -1 ? '' : decodeFormComponent(pair.slice(equals + 1));
  }
  return fields;
}

/**
 * A JSON object or a form, whichever the Content-Type says, as a plain
 * object. What login handlers want: `{username, password}` from a fetch()
 * call or from an HTML form.
 */
export function parseFields(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') return parseForm(body);
  if (isJsonType(type) || (type === '' && body.length > 0 && body[0] === 0x7b /* { */)) {
    const value = parseJson(body);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new HttpError(400, 'ERR_HTTP_BAD_BODY', 'request body must be a JSON object');
    }
    return value as Record<string, unknown>;
  }
  if (type === '' && body.length === 0) return Object.create(null);
  throw new HttpError(415, 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json or application/x-www-form-urlencoded');
}
