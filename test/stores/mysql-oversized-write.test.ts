/**
 * Issue 13, item 3: a write over the server's max_allowed_packet fails that
 * write only. The server answers 1153 (sqlState 08S01) and closes the
 * session; the store destroys that connection instead of giving it back to
 * the pool, where the next, unrelated, operation used to fail with
 * ECONNRESET. And a maxDataBytes whose sealed record could never fit is
 * refused at start.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSessionManager } from '../../src/index.ts';
import { MysqlStore } from '../../src/stores/mysql.ts';
import { SEAL_OVERHEAD, STATEMENT_OVERHEAD } from '../../src/stores/mysql-server.ts';
import { testKey } from '../helpers/manager.ts';
import { adminConnection, codeOf, dropTable, mysqlUrl, openMysqlStore, uniqueTable } from '../helpers/mysql.ts';
import { randomKey, recordWrite } from './contract.ts';

async function maxAllowedPacket(): Promise<number> {
  const admin = await adminConnection();
  try {
    const [rows] = await admin.query('SELECT @@max_allowed_packet AS packet');
    return Number((rows as Array<{ packet: number }>)[0]!.packet);
  } finally {
    await admin.end();
  }
}

describe('MySQL store and max_allowed_packet', () => {
  it('fails an oversized write alone: the next, unrelated, operation on the same pooled connection succeeds', async () => {
    // One connection: the operation after the oversized write gets the very connection the server closed, if it went back.
    const { store, cleanup } = await openMysqlStore({ poolSize: 1 });
    try {
      const packet = await maxAllowedPacket();
      const victim = randomKey();
      const bystander = randomKey();
      assert.equal(await store.insert(victim, recordWrite()), true);
      assert.equal(await store.insert(bystander, recordWrite()), true);

      const oversized = recordWrite({ sealed: Buffer.alloc(packet + 1, 7) });
      await assert.rejects(store.update(victim, 1, oversized), (error: Error & { cause?: { errno?: number } }) => {
        assert.equal(codeOf(error), 'ERR_SESSION_STORE');
        assert.equal(error.cause?.errno, 1153, 'the server refused the packet (ER_NET_PACKET_TOO_LARGE)');
        return true;
      });

      // Another user's request, right after: served, not ECONNRESET.
      assert.equal((await store.find(bystander))?.version, 1);
      assert.equal(await store.update(bystander, 1, recordWrite()), true);
      assert.equal((await store.find(victim))?.version, 1, 'the oversized write left the record as it was');
    } finally {
      await cleanup();
    }
  });

  it('refuses at open() a maxDataBytes whose sealed record cannot fit, naming both numbers (ERR_SESSION_CONFIG)', async () => {
    const packet = await maxAllowedPacket();
    const table = uniqueTable('pkt');
    const maxDataBytes = packet - SEAL_OVERHEAD - STATEMENT_OVERHEAD + 1;
    const store = new MysqlStore({ uri: mysqlUrl(), table, maxDataBytes });
    try {
      await assert.rejects(store.open(), (error: Error) => {
        assert.equal(codeOf(error), 'ERR_SESSION_CONFIG');
        assert.match(error.message, new RegExp(`\\b${maxDataBytes}\\b`), 'names maxDataBytes');
        assert.match(error.message, new RegExp(`max_allowed_packet is ${packet}\\b`), "names the server's limit");
        return true;
      });
    } finally {
      await store.close();
      await dropTable(table);
    }
    // One byte less fits.
    const fitting = await openMysqlStore({ maxDataBytes: maxDataBytes - 1 });
    await fitting.cleanup();
  });

  it('refuses to start a manager whose maxDataBytes the server cannot take, and starts one with the default', async () => {
    const packet = await maxAllowedPacket();
    const table = uniqueTable('pkt');
    try {
      const config = { storageType: 'database' as const, encryptionKey: testKey(), cleanupInterval: 0, database: { uri: mysqlUrl(), table } };
      const refused = await createSessionManager({ ...config, maxDataBytes: packet }).then(
        async (manager) => {
          await manager.close();
          return undefined;
        },
        (error: unknown) => error,
      );
      assert.equal(codeOf(refused), 'ERR_SESSION_CONFIG');
      const manager = await createSessionManager(config);
      await manager.close();
    } finally {
      await dropTable(table);
    }
  });
});
