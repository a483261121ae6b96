import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { KeyRing } from '../../src/crypto/aead.ts';
import { InlineSealer } from '../../src/crypto/sealer.ts';
import { SealedRecordStore } from '../../src/tier/sealed-store.ts';
import { MysqlStore } from '../../src/stores/mysql.ts';
import { createTableSql } from '../../src/stores/mysql-ddl.ts';
import { testKey } from '../helpers/manager.ts';
import { adminConnection, codeOf, dropTable, mysqlManager, mysqlUrl, openMysqlStore, uniqueTable } from '../helpers/mysql.ts';
import { randomKey, randomTag, recordWrite, storeContract, T0 } from './contract.ts';
import { recordStoreContract } from './record-contract.ts';

storeContract('database (MySQL on MariaDB)', async () => openMysqlStore());

recordStoreContract('sealed tier over MySQL', async () => {
  const fixture = await openMysqlStore();
  const store = new SealedRecordStore(fixture.store, new InlineSealer(new KeyRing(testKey())), { maxBytes: 8 * 1024 * 1024, staleMs: 1000, now: () => T0, onError: () => {} });
  return { store, cleanup: () => fixture.cleanup() };
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('MySQL store: table and connection', () => {
  it('documents in README-mysql.md exactly the DDL it runs', () => {
    const readme = readFileSync(new URL('../../src/stores/README-mysql.md', import.meta.url), 'utf8');
    const documented = /```sql\n([\s\S]*?);\n```/.exec(readme)?.[1];
    assert.equal(documented, createTableSql('rockstar_sessions'));
  });

  it('creates its table on first use with the columns and indexes of the README DDL', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    try {
      const admin = await adminConnection();
      const [indexes] = await admin.query(`SHOW INDEX FROM \`${table}\``);
      const [engine] = await admin.query('SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table]);
      await admin.end();
      const indexed = new Set((indexes as Array<{ Column_name: string; Seq_in_index: number }>).filter((i) => i.Seq_in_index === 1).map((i) => i.Column_name));
      assert.deepEqual([...indexed].sort(), ['expires_at', 'id', 'tenant_id', 'user_id']);
      assert.equal((engine as Array<{ ENGINE: string }>)[0]?.ENGINE, 'InnoDB');
      assert.equal(store.name, 'database');
    } finally {
      await cleanup();
    }
  });

  it('stores the key and tags as raw bytes (32 and 16), never the hex text', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    try {
      const key = randomKey();
      const tag = randomTag();
      await store.insert(key, recordWrite({ userTag: tag, tenantTag: tag }));
      const admin = await adminConnection();
      const [rows] = await admin.query(`SELECT id, user_id, tenant_id, version FROM \`${table}\``);
      await admin.end();
      const [row] = rows as Array<{ id: Buffer; user_id: Buffer; tenant_id: Buffer; version: number }>;
      assert.deepEqual(row!.id, Buffer.from(key, 'hex'));
      assert.deepEqual(row!.user_id, Buffer.from(tag, 'hex'));
      assert.deepEqual(row!.tenant_id, Buffer.from(tag, 'hex'));
      assert.equal(row!.version, 1);
    } finally {
      await cleanup();
    }
  });

  it('opens an existing table without recreating it, and two stores share it', async () => {
    const first = await openMysqlStore();
    const second = new MysqlStore({ uri: mysqlUrl(), table: first.table, createTable: false });
    try {
      await second.open();
      const key = randomKey();
      await first.store.insert(key, recordWrite());
      assert.equal((await second.find(key))?.version, 1);
    } finally {
      await second.close();
      await first.cleanup();
    }
  });

  it('rejects with ERR_SESSION_STORE when the table is missing and createTable is false', async () => {
    const store = new MysqlStore({ uri: mysqlUrl(), table: uniqueTable('missing'), createTable: false });
    try {
      await assert.rejects(store.open(), (error: Error) => {
        assert.equal(codeOf(error), 'ERR_SESSION_STORE');
        assert.match(error.message, /does not exist.*README-mysql\.md/);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  it('rejects a table whose columns do not fit (id stored as text)', async () => {
    const table = uniqueTable('wrong');
    const admin = await adminConnection();
    await admin.query(`CREATE TABLE \`${table}\` (id VARCHAR(64) PRIMARY KEY, version BIGINT, user_id BINARY(16), tenant_id BINARY(16), expires_at BIGINT, data MEDIUMBLOB)`);
    await admin.end();
    const store = new MysqlStore({ uri: mysqlUrl(), table });
    try {
      await assert.rejects(store.open(), (error: Error) => codeOf(error) === 'ERR_SESSION_STORE' && /column id is varchar.*BINARY\(32\)/.test(error.message));
    } finally {
      await store.close();
      await dropTable(table);
    }
  });

  it('createSessionManager rejects with ERR_SESSION_STORE when nothing listens at the URI', async () => {
    const port = await closedPort();
    const started = performance.now();
    await assert.rejects(
      createSessionManager({
        storageType: 'database',
        database: { uri: `mysql://nobody:nothing@127.0.0.1:${port}/nowhere`, operationTimeout: 2000 },
        encryptionKey: testKey(),
        cleanupInterval: 0,
        crypto: { mode: 'inline' },
      }),
      (error: Error) => {
        assert.equal(codeOf(error), 'ERR_SESSION_STORE');
        assert.ok((error as Error & { cause?: unknown }).cause, 'the driver error is kept as cause');
        return true;
      },
    );
    assert.ok(performance.now() - started < 2000 + 1000, 'rejected within the operation deadline');
  });

  it('createSessionManager rejects with ERR_SESSION_STORE on wrong credentials', async () => {
    const url = new URL(mysqlUrl());
    url.password = 'not-the-password';
    await assert.rejects(mysqlManager(uniqueTable(), {}, url.toString()), (error: Error) => codeOf(error) === 'ERR_SESSION_STORE');
  });

  it('rejects every call after close with ERR_SESSION_CLOSED, and close is idempotent', async () => {
    const { store, cleanup } = await openMysqlStore();
    await store.close();
    await assert.rejects(store.find(randomKey()), (error) => codeOf(error) === 'ERR_SESSION_CLOSED');
    await assert.rejects(store.deleteExpired(T0), (error) => codeOf(error) === 'ERR_SESSION_CLOSED');
    await cleanup();
  });

  it('a manager on storageType database creates, loads, saves and destroys sessions', async () => {
    const table = uniqueTable();
    const { manager } = await mysqlManager(table);
    try {
      const ctx = { appendSetCookie: () => {} };
      const session = await manager.create({ ...ctx, userId: 'alice' });
      session.data.cart = [1, 2, 3];
      await manager.save(ctx, session);
      assert.deepEqual((await manager.load(ctx, session.id)).data, { cart: [1, 2, 3] });
      assert.equal((await manager.listForUser('alice')).length, 1);
      await manager.destroy(ctx, session.id);
      await assert.rejects(manager.load(ctx, session.id), (error) => codeOf(error) === 'ERR_SESSION_NOT_FOUND');
    } finally {
      await manager.close();
      await dropTable(table);
    }
  });
});
