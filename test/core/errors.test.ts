import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as api from '../../src/index.ts';

const cause = new Error('underlying');

/** [class, code, an instance built the way the library builds it] */
const table: Array<[Function, string, api.SessionError]> = [
  [api.SessionConfigError, 'ERR_SESSION_CONFIG', new api.SessionConfigError('bad option', { cause })],
  [api.SessionNotFoundError, 'ERR_SESSION_NOT_FOUND', new api.SessionNotFoundError('gone', { cause })],
  [api.SessionExpiredError, 'ERR_SESSION_EXPIRED', new api.SessionExpiredError('late', { cause })],
  [api.SessionKeyNotFoundError, 'ERR_SESSION_KEY_NOT_FOUND', new api.SessionKeyNotFoundError('cart')],
  [api.InvalidCookieError, 'ERR_SESSION_INVALID_COOKIE', new api.InvalidCookieError('tampered', { cause })],
  [api.CookieTooLargeError, 'ERR_SESSION_COOKIE_TOO_LARGE', new api.CookieTooLargeError(5000, 4096)],
  [api.SessionDataError, 'ERR_SESSION_DATA', new api.SessionDataError('a function', { cause })],
  [api.SessionStoreError, 'ERR_SESSION_STORE', new api.SessionStoreError('disk', { cause })],
  [api.SessionConflictError, 'ERR_SESSION_CONFLICT', new api.SessionConflictError('busy', { cause })],
  [api.SessionOverloadedError, 'ERR_SESSION_OVERLOADED', new api.SessionOverloadedError('full', { cause })],
  [api.SessionClosedError, 'ERR_SESSION_CLOSED', new api.SessionClosedError('closed', { cause })],
  [api.SessionContextError, 'ERR_SESSION_CONTEXT', new api.SessionContextError('no appendSetCookie', { cause })],
];

describe('every error class has a stable code and keeps its cause', () => {
  for (const [ErrorClass, code, error] of table) {
    it(`${ErrorClass.name} has code ${code}`, () => {
      assert.ok(error instanceof api.SessionError);
      assert.ok(error instanceof Error);
      assert.ok(error instanceof (ErrorClass as new (...args: never[]) => Error));
      assert.equal(error.code, code);
      assert.equal(error.name, ErrorClass.name);
      assert.ok(error.message.length > 0);
      assert.ok(String(error.stack).includes(ErrorClass.name));
      if (!(error instanceof api.SessionKeyNotFoundError) && !(error instanceof api.CookieTooLargeError)) assert.equal(error.cause, cause);
    });
  }

  it('covers every exported error class', () => {
    const exported = Object.values(api).filter((v) => typeof v === 'function' && v.prototype instanceof api.SessionError);
    assert.deepEqual(new Set(exported), new Set(table.map(([c]) => c)));
  });

  it('uses each code once', () => {
    assert.equal(new Set(table.map(([, code]) => code)).size, table.length);
  });
});
