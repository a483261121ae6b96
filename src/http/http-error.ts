/**
 * HttpError: a failure of the HTTP exchange itself (body too large, body
 * that does not parse, client gone), as opposed to a session failure.
 * Adapters and applications throw it; the adapter answers with its status.
 */
export type HttpErrorCode =
  | 'ERR_HTTP_BODY_TOO_LARGE'
  | 'ERR_HTTP_BAD_BODY'
  | 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_HTTP_ABORTED'
  | 'ERR_HTTP_CLIENT';

export class HttpError extends Error {
  readonly code: HttpErrorCode;
  /** The response status this failure calls for. */
  readonly status: number;
  /** Safe to show the client: it describes their request, never our internals. */
  readonly expose: boolean;

  constructor(status: number, code: HttpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.code = code;
    this.expose = status < 500;
  }

  override get name(): string {
    return 'HttpError';
  }
}

/** The client closed the connection before we answered; nothing can be written any more. */
export class RequestAbortedError extends HttpError {
  constructor() {
    super(499, 'ERR_HTTP_ABORTED', 'the client aborted the request');
  }
}
