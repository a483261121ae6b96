/**
 * The per-operation deadline on the shared test server: a statement blocked
 * on a row lock held by another client misses it; the call fails with
 * ERR_SESSION_STORE and its connection is dropped, never reused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineError } from '../../src/stores/mysql-deadline.ts';
import { adminConnection, codeOf, openMysqlStore, timed } from '../helpers/mysql.ts';
import { randomKey, recordWrite } from './contract.ts';

const DEADLINE = 1500;
/** Scheduling noise allowed past a deadline on a busy 2-core machine. */
const SLACK = 500;

describe('MySQL store deadlines', () => {
  it('fails a write stuck on a row lock by its deadline, drops that connection, and keeps serving on a fresh one', async () => {
    // One connection in the pool: if the stuck one went back, the next call would queue behind it.
    const { store, table, cleanup } = await openMysqlStore({ operationTimeout: DEADLINE, poolSize: 1 });
    const admin = await adminConnection();
    try {
      const key = randomKey();
      await store.insert(key, recordWrite());
      await admin.beginTransaction();
      await admin.query(`SELECT id FROM \`${table}\` WHERE id = ? FOR UPDATE`, [Buffer.from(key, 'hex')]);

      const stuck = await timed(() => store.update(key, 1, recordWrite()));
      assert.equal(codeOf(stuck.error), 'ERR_SESSION_STORE');
      assert.ok((stuck.error as Error).cause instanceof DeadlineError, 'the missed deadline is the cause');
      assert.ok(stuck.ms < DEADLINE + SLACK, `ended after ${stuck.ms.toFixed(0)} ms (deadline ${DEADLINE})`);

      // The lock is still held: only a new connection can answer this.
      const read = await timed(() => store.find(key));
      assert.equal(read.error, undefined);
      assert.equal(read.value?.version, 1);
      const other = randomKey();
      assert.equal(await store.insert(other, recordWrite()), true);

      await admin.rollback();
      assert.equal(await store.update(other, 1, recordWrite()), true);
    } finally {
      await admin.end();
      await cleanup();
    }
  });

  it('bounds the wait for a pool connection by the same deadline', async () => {
    const { store, table, cleanup } = await openMysqlStore({ operationTimeout: DEADLINE, poolSize: 1 });
    const admin = await adminConnection();
    try {
      const key = randomKey();
      await store.insert(key, recordWrite());
      await admin.beginTransaction();
      await admin.query(`SELECT id FROM \`${table}\` WHERE id = ? FOR UPDATE`, [Buffer.from(key, 'hex')]);
      // The first call holds the only connection (stuck on the lock); the second waits for the pool.
      const [first, second] = await Promise.all([timed(() => store.touch(key, 1)), timed(() => store.find(randomKey()))]);
      for (const call of [first, second]) {
        assert.equal(codeOf(call.error), 'ERR_SESSION_STORE');
        assert.ok(call.ms < DEADLINE + SLACK, `ended after ${call.ms.toFixed(0)} ms`);
      }
      await admin.rollback();
      assert.equal(await store.touch(key, 2), true);
    } finally {
      await admin.end();
      await cleanup();
    }
  });
});
