/**
 * A plain InnoDB deadlock (no Galera) is a lost race, never ERR_SESSION_STORE:
 * an update that is the victim answers false (a refused compare-and-swap the
 * manager retries), and insert, touch and delete are run again by the store
 * until they are done. Each case provokes a real deadlock with the store's
 * statement as the victim (test/helpers/mysql-deadlock.ts) and checks the
 * server counted it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context } from '../helpers/manager.ts';
import { provokeDeadlock } from '../helpers/mysql-deadlock.ts';
import { adminConnection, dropTable, mysqlManager, openMysqlStore, uniqueTable } from '../helpers/mysql.ts';
import { randomKey, randomTag, recordWrite, T0 } from './contract.ts';

const hex = (key: string) => `x'${key}'`;
/** A gap lock on idx_expires_at where no row is, around `at`: an INSERT of that index entry waits for it. */
const gapAround = (table: string, at: number) => `SELECT id FROM \`${table}\` WHERE expires_at BETWEEN ${at - 1} AND ${at + 1} FOR UPDATE`;
const rowLock = (table: string, key: string) => `SELECT id FROM \`${table}\` WHERE id = ${hex(key)} FOR UPDATE`;

describe('MySQL store under InnoDB deadlocks', () => {
  it('answers a deadlocked compare-and-swap update with false (nothing written), and the next attempt lands', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    try {
      const key = randomKey();
      await store.insert(key, recordWrite({ expiresAt: T0 }));
      const newer = recordWrite({ expiresAt: T0 + 5000 });
      // The UPDATE locks the row, then must insert its new idx_expires_at entry into the admin's gap.
      const outcome = await provokeDeadlock({ blocker: gapAround(table, T0 + 5000), closer: rowLock(table, key), operation: () => store.update(key, 1, newer) });
      assert.ok(outcome.deadlocks >= 1, 'the server saw a deadlock');
      assert.equal(outcome.error, undefined, `no error: ${(outcome.error as Error | undefined)?.message}`);
      assert.equal(outcome.value, false);
      assert.equal((await store.find(key))?.version, 1, 'the victim wrote nothing');
      assert.equal(await store.update(key, 1, newer), true);
      assert.equal((await store.find(key))?.version, 2);
    } finally {
      await cleanup();
    }
  });

  it('retries a deadlocked touch until it lands', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    try {
      const key = randomKey();
      await store.insert(key, recordWrite({ expiresAt: T0 }));
      const outcome = await provokeDeadlock({ blocker: gapAround(table, T0 + 7000), closer: rowLock(table, key), operation: () => store.touch(key, T0 + 7000) });
      assert.ok(outcome.deadlocks >= 1, 'the server saw a deadlock');
      assert.equal(outcome.error, undefined, `no error: ${(outcome.error as Error | undefined)?.message}`);
      assert.equal(outcome.value, true);
      const found = await store.find(key);
      assert.equal(found?.expiresAt, T0 + 7000);
      assert.equal(found?.version, 1, 'touch leaves the version alone');
    } finally {
      await cleanup();
    }
  });

  it('retries a deadlocked insert: it lands once, under its own bytes', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    try {
      const key = randomKey();
      const write = recordWrite({ expiresAt: T0 + 9000 });
      // The INSERT writes its primary-key entry (locked by it), then waits for the admin's gap on idx_expires_at.
      const outcome = await provokeDeadlock({ blocker: gapAround(table, T0 + 9000), closer: rowLock(table, key), operation: () => store.insert(key, write) });
      assert.ok(outcome.deadlocks >= 1, 'the server saw a deadlock');
      assert.equal(outcome.error, undefined, `no error: ${(outcome.error as Error | undefined)?.message}`);
      assert.equal(outcome.value, true);
      const found = await store.find(key);
      assert.deepEqual(Buffer.from(found!.sealed), Buffer.from(write.sealed));
      assert.equal(found?.version, 1);
    } finally {
      await cleanup();
    }
  });

  it('retries a deadlocked delete until the row is gone, and a destroyed record stays gone', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    try {
      const key = randomKey();
      const userTag = randomTag();
      await store.insert(key, recordWrite({ userTag }));
      // The DELETE locks the row, then must delete-mark its idx_user_id entry, which the admin holds in share mode.
      const blocker = `SELECT user_id FROM \`${table}\` FORCE INDEX (idx_user_id) WHERE user_id = x'${userTag}' LOCK IN SHARE MODE`;
      const outcome = await provokeDeadlock({ blocker, closer: rowLock(table, key), operation: () => store.delete(key) });
      assert.ok(outcome.deadlocks >= 1, 'the server saw a deadlock');
      assert.equal(outcome.error, undefined, `no error: ${(outcome.error as Error | undefined)?.message}`);
      assert.equal(await store.find(key), null);
      assert.equal(await store.update(key, 1, recordWrite()), false);
      assert.equal(await store.touch(key, T0 + 1), false);
    } finally {
      await cleanup();
    }
  });

  it('lets a manager update through a deadlocked compare-and-swap: the CAS loop retries it', async () => {
    const table = uniqueTable('dlm');
    const { manager, clock } = await mysqlManager(table, { cache: { staleMs: 0 } });
    try {
      const ctx = context();
      const session = await manager.create(ctx);
      await manager.set(session.id, 'a', 1);
      // The manager writes expires_at = now + sessionLifetime (24 h by default) with the injected clock.
      clock.advance(10_000);
      const expiresAt = clock.now + 24 * 60 * 60 * 1000;
      const outcome = await provokeDeadlock({
        blocker: gapAround(table, expiresAt),
        closer: rowLock(table, await keyOf(table)),
        operation: () => manager.update(session.id, 'a', (n) => ((n as number | undefined) ?? 0) + 1),
      });
      assert.ok(outcome.deadlocks >= 1, 'the server saw a deadlock');
      assert.equal(outcome.error, undefined, `no error: ${(outcome.error as Error | undefined)?.message}`);
      assert.equal(await manager.get(session.id, 'a'), 2);
    } finally {
      await manager.close();
      await dropTable(table);
    }
  });
});

/** The one store key in a table (the test's session). */
async function keyOf(table: string): Promise<string> {
  const admin = await adminConnection();
  try {
    const [rows] = await admin.query(`SELECT HEX(id) AS id FROM \`${table}\``);
    return (rows as Array<{ id: string }>)[0]!.id.toLowerCase();
  } finally {
    await admin.end();
  }
}
