/** The response the framework adapters send for a session failure: responseForError's status, headers and body, as JSON. */
import { STATUS_CODES } from 'node:http';
import { responseForError } from './errors-to-status.ts';

export interface SessionFailureResponse {
  readonly status: number;
  readonly reason: string;
  /** Lower-case names: content-type, content-length, cache-control, and retry-after for transient failures. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Representation headers of the response the application had prepared: they
 * describe a body that is not sent any more (a redirect's Location, a file's
 * length and type), so an error response replacing it drops them. Other
 * headers (CORS, security policies) stay: browsers need them to read the error.
 */
export const REPLACED_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-range',
  'content-disposition',
  'content-location',
  'transfer-encoding',
  'etag',
  'last-modified',
  'location',
  'expires',
  'cache-control',
];

export function sessionFailureResponse(error: unknown): SessionFailureResponse {
  const mapped = responseForError(error);
  const body = JSON.stringify(mapped.body);
  return {
    status: mapped.status,
    reason: STATUS_CODES[mapped.status] ?? 'Error',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      ...mapped.headers,
    },
    body,
  };
}
