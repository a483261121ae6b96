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
  // Cookie-name prefixes: browsers silently drop a cookie that breaks its prefix's rules.
  ['a __Secure- cookie without cookieSecure', { ...base, cookieName: '__Secure-sid', cookieSecure: false }, ['cookieSecure', 'true', '__Secure-']],
  ['a __Host- cookie without cookieSecure', { ...base, cookieName: '__Host-sid', cookieSecure: false }, ['cookieSecure', '__Host-']],
  ['a __Host- cookie with a cookiePath other than /', { ...base, cookieName: '__Host-sid', cookiePath: '/app' }, ['cookiePath', "'/'", '__Host-', '"/app"']],
  ['a __Host- cookie with a cookieDomain', { ...base, cookieName: '__Host-sid', cookieDomain: 'example.com' }, ['cookieDomain', 'host-only', '__Host-', '"example.com"']],
  ['a __Http- cookie without cookieHttpOnly', { ...base, cookieName: '__Http-sid', cookieHttpOnly: false }, ['cookieHttpOnly', '__Http-']],
  ['a __Http- cookie without cookieSecure', { ...base, cookieName: '__Http-sid', cookieSecure: false }, ['cookieSecure', '__Http-']],
  ['a __Host-Http- cookie without cookieHttpOnly', { ...base, cookieName: '__Host-Http-sid', cookieHttpOnly: false }, ['cookieHttpOnly', '__Host-Http-']],
  ['a __Host-Http- cookie with a cookieDomain', { ...base, cookieName: '__Host-Http-sid', cookieDomain: 'example.com' }, ['cookieDomain', '__Host-Http-']],
  // Browsers match prefixes case-insensitively (RFC 6265bis), so a mis-cased one is held to the same rules...
  ['a __host- (lower case) cookie without cookieSecure', { ...base, cookieName: '__host-sid', cookieSecure: false }, ['cookieName', "'__Host-'"]],
  ['a __SECURE- (upper case) cookie without cookieSecure', { ...base, cookieName: '__SECURE-sid', cookieSecure: false }, ['cookieName', "'__Secure-'"]],
  // ...and refused even when it keeps them: older browsers only honour the exact spelling.
  ['a __host- (lower case) cookie that keeps the rules', { ...base, cookieName: '__host-sid' }, ['cookieName', "exact prefix '__Host-'", '"__host-sid"']],
  ['a __secure- (lower case) cookie that keeps the rules', { ...base, cookieName: '__secure-sid' }, ['cookieName', "'__Secure-'"]],
];

/** [what is wrong, config, words the message must contain]: unknown keys, each named, with what to use instead. */
const unknownKeys: Array<[string, Record<string, unknown>, string[]]> = [
  ['a misspelt top-level option', { ...base, cookieSecur: false }, ['unknown option cookieSecur', 'did you mean cookieSecure?']],
  ['a top-level option in another case', { ...base, cookieHTTPOnly: true }, ['cookieHTTPOnly', 'did you mean cookieHttpOnly?']],
  ['a top-level option in snake case', { ...base, session_lifetime: 1000 }, ['session_lifetime', 'did you mean sessionLifetime?']],
  ['two swapped letters', { ...base, cookieNmae: 'x' }, ['cookieNmae', 'did you mean cookieName?']],
  ['a top-level option nothing is near', { ...base, colour: 'blue' }, ['unknown option colour', 'config options are:', 'encryptionKey']],
  ['an unknown key with an undefined value', { ...base, cookieSecur: undefined }, ['cookieSecur', 'cookieSecure']],
  ['a misspelt cache option', { ...base, cache: { maxByte: 1000 } }, ['unknown option cache.maxByte', 'did you mean cache.maxBytes?']],
  ['an lru-cache option in cache', { ...base, cache: { max: 500 } }, ['cache.max', 'cache.maxBytes']],
  ['a cache option nothing is near', { ...base, cache: { flavour: 1 } }, ['cache.flavour', 'cache options are: maxBytes, staleMs']],
  ['a misspelt crypto option', { ...base, crypto: { thread: 2 } }, ['unknown option crypto.thread', 'did you mean crypto.threads?']],
  ['a piscina option in crypto', { ...base, crypto: { maxThreads: 2 } }, ['crypto.maxThreads', 'crypto.threads']],
  ["express-session's secret", { storageType: 'cache', secret: 'keyboard cat' }, ['unknown option secret', 'encryptionKey', '32']],
  ["express-session's resave", { ...base, resave: false }, ['unknown option resave', 'not needed', 'only changed sessions are written']],
  ["express-session's saveUninitialized", { ...base, saveUninitialized: false }, ['unknown option saveUninitialized', 'not needed', 'create()']],
  ["express-session's rolling", { ...base, rolling: true }, ['unknown option rolling', 'refresh(ctx, session)']],
  ["express-session's name", { ...base, name: 'sid' }, ['unknown option name', 'cookieName']],
  ["express-session's cookie", { ...base, cookie: { secure: true, maxAge: 1000 } }, ['unknown option cookie', 'cookieSecure', 'sessionLifetime']],
  ["express-session's store", { ...base, store: {} }, ['unknown option store', 'storageType']],
  ["express-session's genid", { ...base, genid: () => 'x' }, ['unknown option genid', '32 random bytes']],
  ["express-session's proxy", { ...base, proxy: true }, ['unknown option proxy', 'trustedProxies']],
  ["express-session's unset", { ...base, unset: 'destroy' }, ['unknown option unset', 'destroy(ctx, session)', 'clearCookie(ctx)']],
  ["@fastify/session's idGenerator", { ...base, idGenerator: () => 'x' }, ['idGenerator', '32 random bytes']],
  ["@fastify/session's cookiePrefix", { ...base, cookiePrefix: 's:' }, ['cookiePrefix', 'cookieName']],
  ["@fastify/secure-session's key", { storageType: 'cache', key: Buffer.alloc(32) }, ['unknown option key', 'encryptionKey', 'previousKeys']],
  ["@fastify/secure-session's salt", { ...base, salt: 'mq9hDxBVDbspDR6n' }, ['unknown option salt', 'encryptionKey']],
  ["@fastify/secure-session's sessionName", { ...base, sessionName: 'session' }, ['sessionName', 'cookieName']],
  ["@fastify/secure-session's expiry", { ...base, expiry: 86400 }, ['unknown option expiry', 'sessionLifetime', 'milliseconds']],
  ["iron-session's password", { storageType: 'cache', password: 'complex_password_at_least_32_characters_long' }, ['unknown option password', 'encryptionKey']],
  ["iron-session's ttl", { ...base, ttl: 3600 }, ['unknown option ttl', 'sessionLifetime']],
  ['a cookie attribute without our prefix', { ...base, sameSite: 'Strict' }, ['unknown option sameSite', 'cookieSameSite']],
];

describe('createSessionManager rejects each unknown config key with ERR_SESSION_CONFIG naming it', () => {
  for (const [what, config, words] of unknownKeys) {
    it(`rejects ${what}`, () => {
      assert.throws(() => validateConfig(config), (error: unknown) => {
        assert.ok(error instanceof SessionConfigError, `expected SessionConfigError, got ${error}`);
        assert.equal(error.code, 'ERR_SESSION_CONFIG');
        for (const word of words) assert.ok(error.message.includes(word), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(word)}`);
        return true;
      });
    });
  }

  it('names every unknown key of express-session options given together, one line each', () => {
    assert.throws(
      () => validateConfig({ storageType: 'cache', secret: 'keyboard cat', resave: false, saveUninitialized: true, cookie: { secure: true } }),
      (error: Error) => {
        const lines = error.message.split('\n');
        assert.deepEqual(lines.map((line) => line.split(':')[0]), ['unknown option secret', 'unknown option resave', 'unknown option saveUninitialized', 'unknown option cookie']);
        return true;
      },
    );
  });

  it('refuses unknown keys before anything else: a missing encryptionKey is explained by the secret given instead', () => {
    assert.throws(() => validateConfig({ storageType: 'cache', secret: 'keyboard cat' }), { message: /^unknown option secret: rockstar-session takes encryptionKey/ });
  });

  it("accepts the options of other libraries that are also ours (@fastify/session's cookieName)", () => {
    assert.equal(validateConfig({ ...base, cookieName: 'sessionId' }).cookieName, 'sessionId');
  });

  it('takes any mysql2 option inside database', () => {
    const config = validateConfig({ ...base, database: { host: '127.0.0.1', charset: 'utf8mb4', connectAttributes: { app: 'x' } } });
    assert.equal(config.database?.charset, 'utf8mb4');
  });
});

describe('cookie-name prefixes that keep their rules are accepted', () => {
  const accepted: Array<[string, Record<string, unknown>]> = [
    ['__Host- with the defaults (Secure, Path=/, host-only)', { cookieName: '__Host-sid' }],
    ['__Secure- with a path and a domain', { cookieName: '__Secure-sid', cookiePath: '/app', cookieDomain: 'example.com' }],
    ['__Http- (Secure and HttpOnly)', { cookieName: '__Http-sid', cookiePath: '/app' }],
    ['__Host-Http- with the defaults', { cookieName: '__Host-Http-sid' }],
    ['a name that only contains a prefix later', { cookieName: 'my__Host-sid', cookieSecure: false }],
  ];
  for (const [what, overrides] of accepted) {
    it(`accepts ${what}`, () => {
      assert.equal(validateConfig({ ...base, ...overrides }).cookieName, overrides.cookieName);
    });
  }
});

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
