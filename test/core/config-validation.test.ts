import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSessionManager, SessionConfigError } from '../../src/index.ts';
import { validateConfig } from '../../src/config.ts';

const key = Buffer.alloc(32, 1);
const base = { storageType: 'cache' as const, encryptionKey: key };

/** [what is wrong, config, words the message must contain] */
const invalid: Array<[string, Record<string, unknown>, string[]]> = [
  ['config that is not an object', null as never, ['config']],
  ['missing encryptionKey', { storageType: 'cache' }, ['encryptionKey', 'undefined']],
  ['a 31-byte key', { ...base, encryptionKey: Buffer.alloc(31) }, ['encryptionKey', '32 bytes', '31 bytes']],
  ['a 33-byte key', { ...base, encryptionKey: Buffer.alloc(33) }, ['encryptionKey', '33 bytes']],
  ['a string key', { ...base, encryptionKey: 'your-32-byte-encryption-key-here' }, ['encryptionKey', 'Uint8Array']],
  ['a short previous key', { ...base, previousKeys: [Buffer.alloc(16)] }, ['previousKeys[0]', '16 bytes']],
  ['previousKeys not an array', { ...base, previousKeys: key }, ['previousKeys', 'array']],
  ['a previous key equal to the current one', { ...base, previousKeys: [Buffer.from(key)] }, ['previousKeys[0]', 'different']],
  ['an unknown storage type', { ...base, storageType: 'redis' }, ['storageType', "'database'", '"redis"']],
  ['database storage without database options', { encryptionKey: key }, ['database', "storageType is 'database'"]],
  ['a database uri of another scheme', { encryptionKey: key, database: { uri: 'postgres://x' } }, ['database.uri', 'mysql://']],
  ['a table name with a quote', { encryptionKey: key, database: { uri: 'mysql://x', table: 'a`b' } }, ['database.table']],
  ['a cookie name with a space', { ...base, cookieName: 'my session' }, ['cookieName', 'RFC 6265', '"my session"']],
  ['a cookie name with a semicolon', { ...base, cookieName: 'a;b' }, ['cookieName']],
  ['an empty cookie name', { ...base, cookieName: '' }, ['cookieName']],
  ['a cookie path without a leading slash', { ...base, cookiePath: 'app' }, ['cookiePath', "'/'"]],
  ['a cookie path with a semicolon', { ...base, cookiePath: '/a;b' }, ['cookiePath']],
  ['a cookie domain with a slash', { ...base, cookieDomain: 'evil.com/x' }, ['cookieDomain']],
  ['cookieSecure that is not a boolean', { ...base, cookieSecure: 'yes' }, ['cookieSecure', 'boolean']],
  ['cookieHttpOnly that is not a boolean', { ...base, cookieHttpOnly: 1 }, ['cookieHttpOnly', 'boolean']],
  ['an unknown SameSite value', { ...base, cookieSameSite: 'Sometimes' }, ['cookieSameSite', "'Lax'"]],
  ['SameSite=None without Secure', { ...base, cookieSameSite: 'None', cookieSecure: false }, ['cookieSameSite', 'cookieSecure']],
  ['a zero session lifetime', { ...base, sessionLifetime: 0 }, ['sessionLifetime', 'positive', '0']],
  ['a negative session lifetime', { ...base, sessionLifetime: -5 }, ['sessionLifetime', '-5']],
  ['a fractional session lifetime', { ...base, sessionLifetime: 1.5 }, ['sessionLifetime', 'integer']],
  ['an infinite session lifetime', { ...base, sessionLifetime: Infinity }, ['sessionLifetime']],
  ['a zero absolute lifetime', { ...base, absoluteLifetime: 0 }, ['absoluteLifetime', 'positive']],
  ['an absolute lifetime shorter than the idle one', { ...base, sessionLifetime: 10_000, absoluteLifetime: 5_000 }, ['absoluteLifetime', 'at least sessionLifetime', '5000']],
  ['a negative cleanup interval', { ...base, cleanupInterval: -1 }, ['cleanupInterval', 'non-negative']],
  ['a cleanup interval past the timer limit', { ...base, cleanupInterval: 2 ** 32 }, ['cleanupInterval', 'timer']],
  ['a touch threshold as long as the lifetime', { ...base, sessionLifetime: 1000, touchThreshold: 1000 }, ['touchThreshold', 'below sessionLifetime']],
  ['an empty filesystem path', { ...base, filesystemPath: '' }, ['filesystemPath']],
  ['a clock that is not a function', { ...base, now: 5 }, ['now', 'function']],
  ['an onError that is not a function', { ...base, onError: 'log' }, ['onError', 'function']],
  ['a zero maxDataBytes', { ...base, maxDataBytes: 0 }, ['maxDataBytes']],
  ['cache options that are not an object', { ...base, cache: 5 }, ['cache', 'object']],
  ['a zero cache byte budget', { ...base, cache: { maxBytes: 0 } }, ['cache.maxBytes', 'positive']],
  ['a negative staleness bound', { ...base, cache: { staleMs: -1 } }, ['cache.staleMs']],
  ['an unknown crypto mode', { ...base, crypto: { mode: 'gpu' } }, ['crypto.mode', "'auto'"]],
  ['zero crypto threads', { ...base, crypto: { threads: 0 } }, ['crypto.threads', 'positive']],
  ['a zero crypto queue bound', { ...base, crypto: { maxQueue: 0 } }, ['crypto.maxQueue']],
  ['a non-boolean fsync', { ...base, filesystem: { fsync: 'always' } }, ['filesystem.fsync', 'boolean']],
];

describe('createSessionManager rejects each invalid option with ERR_SESSION_CONFIG naming it', () => {
  for (const [what, config, words] of invalid) {
    it(`rejects ${what}`, async () => {
      await assert.rejects(createSessionManager(config as never), (error: unknown) => {
        assert.ok(error instanceof SessionConfigError, `expected SessionConfigError, got ${error}`);
        assert.equal(error.code, 'ERR_SESSION_CONFIG');
        for (const word of words) assert.ok(error.message.includes(word), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(word)}`);
        return true;
      });
    });
  }
});

describe('config defaults', () => {
  it("applies the seed's defaults", () => {
    const config = validateConfig({ storageType: 'cache', encryptionKey: key });
    assert.equal(config.cookieName, 'rockstar_session');
    assert.equal(config.cookiePath, '/');
    assert.equal(config.cookieDomain, '');
    assert.equal(config.cookieSecure, true);
    assert.equal(config.cookieHttpOnly, true);
    assert.equal(config.cookieSameSite, 'Lax');
    assert.equal(config.sessionLifetime, 24 * 3600_000);
    assert.equal(config.absoluteLifetime, 7 * 24 * 3600_000);
    assert.equal(config.filesystemPath, './sessions');
    assert.equal(config.cleanupInterval, 3600_000);
    assert.equal(config.touchThreshold, 60_000);
    assert.equal(config.crypto.mode, 'auto');
    assert.ok(config.crypto.threads >= 1);
  });

  it('defaults storageType to database, as the seed does', () => {
    const config = validateConfig({ encryptionKey: key, database: { uri: 'mysql://u@127.0.0.1/db' } });
    assert.equal(config.storageType, 'database');
    assert.equal(config.database?.table, 'rockstar_sessions');
  });

  it('copies the key, so later changes to the caller buffer do not change it', () => {
    const mine = Buffer.alloc(32, 9);
    const config = validateConfig({ storageType: 'cache', encryptionKey: mine });
    mine.fill(0);
    assert.equal(config.encryptionKey[0], 9);
  });

  it('freezes the resolved config', () => {
    const config = validateConfig({ storageType: 'cache', encryptionKey: key });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.cache) && Object.isFrozen(config.crypto));
  });
});
