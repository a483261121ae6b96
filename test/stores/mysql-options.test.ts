/**
 * The `database` option is checked once, at createSessionManager, with the
 * uniform message (`<option> must be <constraint>; received <what>`), never
 * echoing a password or a URI (either may hold a secret: type and length
 * only). No server is needed here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEAL_OVERHEAD as AEAD_SEAL_OVERHEAD } from '../../src/crypto/aead.ts';
import { SessionConfigError } from '../../src/errors.ts';
import { MysqlStore } from '../../src/stores/mysql.ts';
import { nodeOptions } from '../../src/stores/mysql-nodes.ts';
import { validateDatabaseOptions } from '../../src/stores/mysql-options.ts';
import { checkRecordFits, MEDIUMBLOB_MAX, SEAL_OVERHEAD, STATEMENT_OVERHEAD, type ServerFacts } from '../../src/stores/mysql-server.ts';

const SECRET = 'hunter2-s3cret';
const uri = `mysql://app:${SECRET}@db1.internal:3306/app`;

/** [what is wrong, database option, words the message must contain] */
const invalid: Array<[string, Record<string, unknown>, string[]]> = [
  ['a uri of another scheme holding a password', { uri: `postgres://app:${SECRET}@db/app` }, ['database.uri', 'mysql://', 'a string of 36 characters']],
  ['a uri that is not a URL', { uri: `mysql://${SECRET}@` }, ['database.uri', 'naming a host']],
  ['a password that is not a string', { host: 'db', password: 12345678 }, ['database.password', 'a string', 'a number']],
  ['a port out of range', { host: 'db', port: 70000 }, ['database.port', '1 to 65535', '70000']],
  ['neither uri, host, socketPath nor nodes', { user: 'app' }, ['database', 'uri, host, socketPath or nodes']],
  ['nodes that are not an array', { nodes: uri }, ['database.nodes', 'an array of 1 to 32']],
  ['an empty nodes array', { nodes: [] }, ['database.nodes', 'an array of 1 to 32', 'an array of 0']],
  ['33 nodes', { nodes: Array.from({ length: 33 }, () => uri) }, ['database.nodes', 'an array of 33']],
  ['a node uri of another scheme', { nodes: [uri, `http://app:${SECRET}@db2/app`] }, ['database.nodes[1]', 'mysql://', 'a string of']],
  ['a node that is a number', { nodes: [uri, 5] }, ['database.nodes[1]', "'mysql://' URI or an object", '5']],
  ['a node object without host', { nodes: [{ port: 3306 }] }, ['database.nodes[0]', 'uri, host or socketPath']],
  ['a node object with a password that is not a string', { nodes: [{ host: 'db2', password: ['x'] }] }, ['database.nodes[0].password', 'a string', 'an array of 1']],
  ['a node object with a store option', { nodes: [{ host: 'db2', table: 'x' }] }, ['database.nodes[0].table', 'beside nodes']],
  ['a uri beside nodes', { uri, nodes: [uri] }, ['database.uri cannot be given with database.nodes', 'a string of']],
  ['a host beside nodes', { host: 'db1', nodes: [uri] }, ['database.host cannot be given with database.nodes']],
  ['an unknown selector', { nodes: [uri], selector: 'random' }, ['database.selector', "'failover', 'round-robin'", '"random"']],
  ['a selector without nodes', { uri, selector: 'failover' }, ['database.selector', 'only with database.nodes']],
  ['a zero restoreNodeTimeout', { nodes: [uri], restoreNodeTimeout: 0 }, ['database.restoreNodeTimeout', 'positive']],
  ['a cleanupBatch of 0 (it would never finish)', { uri, cleanupBatch: 0 }, ['database.cleanupBatch', 'an integer from 1 to 100000', '0']],
  ['a cleanupBatch given as text (it is written into the SQL)', { uri, cleanupBatch: '1; DROP TABLE x' }, ['database.cleanupBatch', 'an integer', '"1; DROP TABLE x"']],
  ['a fractional cleanupBatch', { uri, cleanupBatch: 2.5 }, ['database.cleanupBatch', '2.5']],
  ['a huge cleanupBatch', { uri, cleanupBatch: 1e9 }, ['database.cleanupBatch', '100000']],
  ['a negative cleanupPauseMs', { uri, cleanupPauseMs: -1 }, ['database.cleanupPauseMs', 'an integer from 0 to 60000', '-1']],
  ['a cleanupPauseMs given as text', { uri, cleanupPauseMs: '10' }, ['database.cleanupPauseMs', '"10"']],
  ['a maxDataBytes inside database', { uri, maxDataBytes: 10 }, ['database.maxDataBytes', 'top-level']],
];

describe('the database option is validated with uniform messages that never echo a secret', () => {
  for (const [what, database, words] of invalid) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => validateDatabaseOptions(database, 'database'),
        (error: unknown) => {
          assert.ok(error instanceof SessionConfigError, `expected SessionConfigError, got ${error}`);
          for (const word of words) assert.ok(error.message.includes(word), `message ${JSON.stringify(error.message)} names ${JSON.stringify(word)}`);
          assert.ok(!error.message.includes(SECRET), `message ${JSON.stringify(error.message)} echoes the password`);
          return true;
        },
      );
    });
  }

  it('accepts several nodes as URIs and objects, with failover by default and the documented defaults', () => {
    const resolved = validateDatabaseOptions({ nodes: [uri, { host: 'db2', port: 3307 }], user: 'app', password: SECRET, database: 'app' }, 'database')!;
    assert.equal(resolved.selector, 'failover');
    assert.equal(resolved.restoreNodeTimeout, 2000);
    assert.equal(resolved.cleanupBatch, 1000);
    assert.equal(resolved.cleanupPauseMs, 10);
    assert.equal(resolved.nodes?.length, 2);
    assert.ok(Object.isFrozen(resolved.nodes));
  });

  it('keeps a single uri or host working as before', () => {
    assert.equal(validateDatabaseOptions({ uri }, 'database')?.uri, uri);
    assert.equal(validateDatabaseOptions({ host: '127.0.0.1', port: 3306, user: 'app' }, 'database')?.host, '127.0.0.1');
    assert.equal(validateDatabaseOptions({ uri }, 'database')?.selector, undefined);
  });

  it('refuses a bad cleanupBatch in a store built directly, too (it reaches the SQL text)', () => {
    assert.throws(() => new MysqlStore({ uri, cleanupBatch: 0 }), SessionConfigError);
    assert.throws(() => new MysqlStore({ uri, cleanupBatch: '5 OR 1' as never }), SessionConfigError);
  });
});

describe('each node gets the shared options, and what it sets itself wins', () => {
  const shared = { user: 'shared-user', password: 'shared-pass', database: 'shared_db', connectTimeout: 100 };

  it('lets a node URI keep its own user, password, database and port', () => {
    const options = nodeOptions(shared, 'mysql://own:pw@db1:3307/own_db');
    assert.equal(options.uri, 'mysql://own:pw@db1:3307/own_db');
    assert.equal(options.user, undefined, 'the shared user does not override the URI');
    assert.equal(options.password, undefined);
    assert.equal(options.database, undefined);
    assert.equal(options.connectTimeout, 100, 'what the URI does not set comes from the shared options');
  });

  it('fills in from the shared options what a node URI leaves out', () => {
    const options = nodeOptions(shared, 'mysql://db1:3307');
    assert.equal(options.user, 'shared-user');
    assert.equal(options.password, 'shared-pass');
    assert.equal(options.database, 'shared_db');
  });

  it('lets a node object override the shared options', () => {
    const options = nodeOptions(shared, { host: 'db2', user: 'node-user' });
    assert.equal(options.host, 'db2');
    assert.equal(options.user, 'node-user');
    assert.equal(options.password, 'shared-pass');
  });
});

describe('a record must fit the server', () => {
  const facts = (maxAllowedPacket: number): ServerFacts => ({ database: 'app', maxAllowedPacket, galera: false, setStatement: true });

  it('counts the seal overhead the crypto layer really adds', () => {
    assert.equal(SEAL_OVERHEAD, AEAD_SEAL_OVERHEAD);
  });

  it('accepts a maxDataBytes whose sealed record and statement fit max_allowed_packet, and refuses one byte more', () => {
    const packet = 1024 * 1024;
    const largest = packet - STATEMENT_OVERHEAD - SEAL_OVERHEAD;
    checkRecordFits(largest, facts(packet), 'mediumblob');
    assert.throws(() => checkRecordFits(largest + 1, facts(packet), 'mediumblob'), (error: Error) => {
      assert.ok(error instanceof SessionConfigError);
      assert.match(error.message, new RegExp(`${largest + 1}-byte record`));
      assert.match(error.message, new RegExp(`max_allowed_packet is ${packet}`));
      assert.match(error.message, new RegExp(`at most ${largest}`));
      return true;
    });
  });

  it('refuses a record larger than a MEDIUMBLOB holds even when the packet would fit, and accepts it in a LONGBLOB', () => {
    const maxDataBytes = MEDIUMBLOB_MAX; // sealed: 45 bytes over
    assert.throws(() => checkRecordFits(maxDataBytes, facts(64 * 1024 * 1024), 'mediumblob'), /MEDIUMBLOB/);
    checkRecordFits(maxDataBytes, facts(64 * 1024 * 1024), 'longblob');
  });

  it('checks nothing when the store is not told maxDataBytes', () => {
    checkRecordFits(undefined, facts(1024), 'mediumblob');
  });
});
