/** Every error the adapters can meet, and the response it becomes (one table for both adapters). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { responseForError } from '../../src/http/errors-to-status.ts';
import { HttpError } from '../../src/http/http-error.ts';
import {
  SessionError,
  CookieTooLargeError,
  InvalidCookieError,
  SessionClosedError,
  SessionConfigError,
  SessionConflictError,
  SessionDataError,
  SessionExpiredError,
  SessionKeyNotFoundError,
  SessionNotFoundError,
  SessionOverloadedError,
  SessionStoreError,
  SessionContextError,
} from '../../src/index.ts';

const cases: Array<[string, unknown, number, boolean, Record<string, string>]> = [
  ['invalid cookie', new InvalidCookieError(), 401, false, {}],
  ['session not found', new SessionNotFoundError(), 401, false, {}],
  ['session expired', new SessionExpiredError(), 401, false, {}],
  ['unstorable data', new SessionDataError('functions cannot be stored'), 400, false, {}],
  ['overloaded', new SessionOverloadedError(), 503, false, { 'retry-after': '1' }],
  ['manager closed (shutting down)', new SessionClosedError(), 503, false, { 'retry-after': '1' }],
  ['store failure (down or past its deadline)', new SessionStoreError('db down at /var/lib/mysql'), 503, true, { 'retry-after': '1' }],
  ['write conflict', new SessionConflictError(), 503, true, { 'retry-after': '1' }],
  ['a context that cannot set cookies', new SessionContextError('no appendSetCookie'), 500, true, {}],
  ['config error', new SessionConfigError('bad'), 500, true, {}],
  ['cookie too large', new CookieTooLargeError(5000, 4096), 500, true, {}],
  ['missing data key', new SessionKeyNotFoundError('cart'), 500, true, {}],
  ['body too large', new HttpError(413, 'ERR_HTTP_BODY_TOO_LARGE', 'too big'), 413, false, { connection: 'close' }],
  ['bad body', new HttpError(400, 'ERR_HTTP_BAD_BODY', 'bad'), 400, false, {}],
  ['a plain Error', new Error('/etc/secret'), 500, true, {}],
  ['a thrown string', 'boom', 500, true, {}],
  ['undefined', undefined, 500, true, {}],
];

for (const [what, error, status, logged, headers] of cases) {
  it(`answers ${what} with ${status}${logged ? ', logged' : ''}`, () => {
    const response = responseForError(error);
    assert.equal(response.status, status);
    assert.equal(response.log, logged);
    assert.deepEqual({ ...response.headers }, headers);
    if (status === 500) assert.deepEqual(response.body, { error: 'internal server error' }, 'a 500 body names no detail');
    else assert.equal(response.body.code, (error as { code: string }).code);
    assert.ok(!JSON.stringify(response.body).includes('/var/lib'), 'the body never carries the error message');
    if (error instanceof SessionError) {
      assert.equal(error.status, status, 'the error carries the status the adapters answer');
      assert.equal(error.statusCode, status);
    }
  });
}
