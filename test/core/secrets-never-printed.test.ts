/**
 * No printable form of the manager, its config, anything public on them, a
 * config rejection or a store failure shows key material or a database
 * password: every form is grepped for the key's hex, base64, base64url and
 * byte-list spellings and for the password.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Console } from 'node:console';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { format, inspect } from 'node:util';
import { createSessionManager, type SessionConfig, type SessionManager } from '../../src/index.ts';

const KEY = randomBytes(32);
const PREVIOUS_KEY = randomBytes(32);
const PASSWORD = 'Pw-s3cret-XYZZY';
const QUERY_PASSWORD = 'Qs-s3cret-PLUGH';
const TLS_KEY = '-----BEGIN PRIVATE KEY-----FROTZ';

/** Every spelling a key could take in printed text. */
function keySpellings(key: Buffer): string[] {
  const bytes = [...key];
  return [
    key.toString('hex'),
    key.toString('hex').slice(0, 16),
    key.toString('base64'),
    key.toString('base64').slice(0, 16),
    key.toString('base64url'),
    key.toString('base64url').slice(0, 16),
    // Uint8Array / Array as inspect and String() print them ("12, 200, 7"), compared without whitespace.
    bytes.slice(0, 8).join(','),
    // JSON.stringify of a Uint8Array: {"0":12,"1":200,...}
    bytes.slice(0, 4).map((b, i) => `"${i}":${b}`).join(','),
  ];
}

const SECRETS = [...keySpellings(KEY), ...keySpellings(PREVIOUS_KEY), PASSWORD, encodeURIComponent(PASSWORD), QUERY_PASSWORD, TLS_KEY.slice(-16)];

function assertNoSecret(what: string, text: string): void {
  const squeezed = text.replace(/\s+/g, '');
  for (const secret of SECRETS) {
    const needle = secret.replace(/\s+/g, '');
    assert.ok(!squeezed.includes(needle), `${what} shows a secret (${JSON.stringify(secret.slice(0, 6))}…): ${text.slice(0, 2000)}`);
  }
}

function consoleLogged(...values: unknown[]): string {
  let out = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += String(chunk);
      done();
    },
  });
  new Console({ stdout: sink, stderr: sink }).log(...values);
  return out;
}

/** Every way a value is commonly printed. */
function printableForms(value: unknown): Record<string, string> {
  return {
    'util.inspect': inspect(value),
    'util.inspect showHidden depth Infinity': inspect(value, { showHidden: true, depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity }),
    'util.inspect colors': inspect(value, { colors: true, depth: Infinity }),
    'JSON.stringify': String(JSON.stringify(value)),
    'String()': String(value),
    'template string': `${value as string}`,
    "format('%o %O %s %j')": format('%o %O %s %j', value, value, value, value),
    'console.log': consoleLogged(value),
    'console.log of an object holding it': consoleLogged({ held: value }),
  };
}

function assertNothingPrinted(what: string, value: unknown): void {
  for (const [form, text] of Object.entries(printableForms(value))) assertNoSecret(`${form} of ${what}`, text);
}

function assertErrorHidesSecrets(what: string, error: unknown): void {
  assert.ok(error instanceof Error, `${what}: expected an Error, got ${String(error)}`);
  assertNoSecret(`message of ${what}`, error.message);
  assertNoSecret(`stack of ${what}`, String(error.stack));
  assertNothingPrinted(what, error);
}

const DATABASE_URI = `mysql://rockstar:${encodeURIComponent(PASSWORD)}@127.0.0.1:3306/rockstar_test?password=${QUERY_PASSWORD}`;
/** Every place a password can be given: a node's URI, a node's options, the options shared by the nodes (password, TLS key). */
const databaseOptions = {
  password: PASSWORD,
  ssl: { key: TLS_KEY, passphrase: PASSWORD, rejectUnauthorized: true },
  nodes: [DATABASE_URI, { host: '127.0.0.1', port: 3307, user: 'rockstar', password: PASSWORD }],
};

async function managerWithSecrets(): Promise<SessionManager> {
  return createSessionManager({
    storageType: 'cache',
    encryptionKey: KEY,
    previousKeys: [PREVIOUS_KEY],
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
    database: databaseOptions,
  });
}

describe('secrets are never printed', () => {
  it('the manager prints its storage type, store and cookie name, and no key or password', async () => {
    const manager = await managerWithSecrets();
    assertNothingPrinted('the manager', manager);
    assert.match(inspect(manager), /storageType: 'cache'/);
    assert.match(inspect(manager), /cookieName: 'rockstar_session'/);
    assert.deepEqual(JSON.parse(JSON.stringify(manager)), { storageType: 'cache', store: 'cache', cookieName: 'rockstar_session', closed: false });
    assert.equal(String(manager), inspect(manager));
    await manager.close();
    assertNothingPrinted('the closed manager', manager);
  });

  it('the resolved config and everything public on it print no key material or password', async () => {
    const manager = await managerWithSecrets();
    const { config } = manager;
    assertNothingPrinted('manager.config', config);
    assertNothingPrinted('manager.config.encryptionKey', config.encryptionKey);
    assertNothingPrinted('manager.config.previousKeys', config.previousKeys);
    assertNothingPrinted('manager.config.previousKeys[0]', config.previousKeys[0]);
    assertNothingPrinted('manager.config.database', config.database);
    for (const [field, value] of Object.entries(config.database ?? {})) {
      if (typeof value === 'object' && value !== null) assertNothingPrinted(`manager.config.database.${field}`, value);
    }
    // Slices of a key are key material too.
    assertNothingPrinted('a slice of manager.config.encryptionKey', config.encryptionKey.subarray(0, 16));
    assertNothingPrinted('manager.store', manager.store);
    await manager.close();
  });

  it('the printed config still says which database and which key sizes are in use', async () => {
    const manager = await managerWithSecrets();
    const printed = inspect(manager.config, { depth: Infinity });
    assert.match(printed, /127\.0\.0\.1:3306\/rockstar_test/);
    assert.match(printed, /32/);
    assert.match(JSON.stringify(manager.config), /"table":"rockstar_sessions"/);
    await manager.close();
  });

  it('the config keeps the real values for the code that needs them', async () => {
    const manager = await managerWithSecrets();
    const { config } = manager;
    assert.ok(Buffer.from(config.encryptionKey).equals(KEY));
    assert.ok(Buffer.from(config.previousKeys[0]!).equals(PREVIOUS_KEY));
    assert.equal(config.database?.password, PASSWORD);
    assert.equal((config.database?.nodes as unknown[])[0], DATABASE_URI);
    assert.equal((config.database?.ssl as { key: string }).key, TLS_KEY);
    // What the MySQL store spreads into mysql2's options: the real values, and none of the printing methods.
    const spread = { ...config.database };
    assert.equal(spread.password, PASSWORD);
    assert.deepEqual(Object.keys(spread).sort(), ['cleanupBatch', 'cleanupPauseMs', 'createTable', 'nodes', 'operationTimeout', 'password', 'poolSize', 'restoreNodeTimeout', 'selector', 'ssl', 'table']);
    await manager.close();
  });

  /** [what is wrong, config] where the wrong value is a secret. */
  const rejections: Array<[string, Record<string, unknown>]> = [
    ['encryptionKey as a base64 string', { encryptionKey: KEY.toString('base64') }],
    ['encryptionKey as a base64url string', { encryptionKey: KEY.toString('base64url') }],
    ['encryptionKey as a hex string', { encryptionKey: KEY.toString('hex') }],
    ['encryptionKey as an array of numbers', { encryptionKey: [...KEY] }],
    ['encryptionKey one byte short', { encryptionKey: KEY.subarray(0, 31) }],
    ['encryptionKey as an ArrayBuffer', { encryptionKey: KEY.buffer.slice(KEY.byteOffset, KEY.byteOffset + 32) }],
    ['previousKeys as a base64 string', { previousKeys: PREVIOUS_KEY.toString('base64') }],
    ['a previous key as a hex string', { previousKeys: [PREVIOUS_KEY.toString('hex')] }],
    ['a previous key equal to encryptionKey', { previousKeys: [Buffer.from(KEY)] }],
    ['the whole config as the key string', KEY.toString('base64') as never],
    ['the key under an unknown option name', { [KEY.toString('base64')]: true }],
    ['express-session secret holding the key', { secret: KEY.toString('base64') }],
    ['a database URI with a password and the wrong scheme', { storageType: 'database', database: { uri: `postgres://rockstar:${PASSWORD}@127.0.0.1/db` } }],
    ['a database URI with a password but a bad table', { storageType: 'database', database: { uri: DATABASE_URI, table: 'a`b', password: PASSWORD } }],
    ['a database object without uri or host, with a password', { storageType: 'database', database: { password: PASSWORD } }],
  ];

  for (const [what, overrides] of rejections) {
    it(`a config rejection of ${what} names the option and shows no secret`, async () => {
      const config = typeof overrides === 'string' ? overrides : { storageType: 'cache', encryptionKey: KEY, ...overrides };
      await assert.rejects(createSessionManager(config as unknown as SessionConfig), (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'ERR_SESSION_CONFIG');
        assertErrorHidesSecrets(what, error);
        return true;
      });
    });
  }

  it('a config rejection gives a secret string its type and length', async () => {
    await assert.rejects(createSessionManager({ storageType: 'cache', encryptionKey: KEY.toString('base64') as never }), /encryptionKey must be .*; received a string of 44 characters$/);
  });

  it('a store that cannot connect fails with ERR_SESSION_STORE and shows no password', async () => {
    const port = await closedPort();
    const uri = `mysql://rockstar:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/rockstar_test`;
    await assert.rejects(
      createSessionManager({ storageType: 'database', encryptionKey: KEY, crypto: { mode: 'inline' }, database: { uri, operationTimeout: 2000 } }),
      (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'ERR_SESSION_STORE');
        assertErrorHidesSecrets('the store failure', error);
        return true;
      },
    );
  });
});

/** A loopback port nobody listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
