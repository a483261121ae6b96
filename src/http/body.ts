/**
 * Request body parsing shared by the adapters: JSON and HTML-form bodies,
 * read into memory under a byte bound.
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

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'ERR_HTTP_BAD_BODY', 'request body is not valid JSON', { cause: error });
  }
}

/** application/x-www-form-urlencoded into a plain object (null prototype; last value of a repeated name wins). */
export function parseForm(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) fields[name] = value;
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
