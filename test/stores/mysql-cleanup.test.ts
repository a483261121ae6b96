/**
 * deleteExpired on MySQL: LIMITed batches with pauses, one node at a time
 * (GET_LOCK), only expired rows, and other requests served meanwhile.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { cleanupLockName } from '../../src/stores/mysql.ts';
import { adminConnection, openMysqlStore } from '../helpers/mysql.ts';
import { randomKey, randomTag, recordWrite, T0 } from './contract.ts';

type Admin = Awaited<ReturnType<typeof adminConnection>>;

/** Expired rows straight into the table, many per INSERT: seeding through the store would take minutes. */
async function seedExpired(admin: Admin, table: string, rows: number): Promise<void> {
  const data = randomBytes(100);
  const perStatement = 2000;
  for (let start = 0; start < rows; start += perStatement) {
    const values = Array.from({ length: Math.min(perStatement, rows - start) }, (_, i) => [randomBytes(32), 1, null, null, T0 - 1 - ((start + i) % 3_600_000), data]);
    await admin.query(`INSERT INTO \`${table}\` (id, version, user_id, tenant_id, expires_at, data) VALUES ?`, [values]);
  }
}

async function rowCount(admin: Admin, table: string, where = '1'): Promise<number> {
  const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`);
  return Number((rows as Array<{ n: number }>)[0]?.n);
}

describe('MySQL store cleanup', () => {
  it('removes only the 100k expired rows while concurrent requests keep being served', async (t) => {
    const { store, table, cleanup } = await openMysqlStore({ poolSize: 6 });
    const admin = await adminConnection();
    try {
      const EXPIRED = 100_000;
      await seedExpired(admin, table, EXPIRED);
      const liveKeys = Array.from({ length: 200 }, randomKey);
      for (const key of liveKeys) await store.insert(key, recordWrite({ expiresAt: T0 + 1, userTag: randomTag() }));
      const boundary = randomKey();
      await store.insert(boundary, recordWrite({ expiresAt: T0 })); // expiresAt <= now counts as expired

      let cleaning = true;
      const latencies: number[] = [];
      const failures: unknown[] = [];
      const insertedDuring: string[] = [];
      const requests = async (worker: number): Promise<void> => {
        for (let i = 0; cleaning; i++) {
          const started = performance.now();
          try {
            const key = liveKeys[(worker * 7919 + i) % liveKeys.length]!;
            if (i % 10 === 9) {
              const fresh = randomKey();
              assert.equal(await store.insert(fresh, recordWrite({ expiresAt: T0 + 60_000 })), true);
              insertedDuring.push(fresh);
            } else {
              const found = await store.find(key);
              assert.ok(found && found.expiresAt === T0 + 1, 'a live record is there, untouched');
            }
          } catch (error) {
            failures.push(error);
          }
          latencies.push(performance.now() - started);
        }
      };
      const cleanupStarted = performance.now();
      const served = Array.from({ length: 4 }, (_, worker) => requests(worker));
      const removed = await store.deleteExpired(T0).finally(() => (cleaning = false));
      const cleanupMs = performance.now() - cleanupStarted;
      await Promise.all(served);

      assert.equal(removed, EXPIRED + 1);
      assert.deepEqual(failures, [], 'every concurrent request succeeded');
      assert.ok(latencies.length > 0, 'requests were served during the cleanup');
      assert.equal(await rowCount(admin, table, `expires_at <= ${T0}`), 0);
      assert.equal(await rowCount(admin, table), liveKeys.length + insertedDuring.length, 'every live row is still there');
      for (const key of [...liveKeys, ...insertedDuring]) assert.ok(await store.find(key));
      assert.equal(await store.find(boundary), null);

      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
      t.diagnostic(
        `cleaned ${removed} rows in ${cleanupMs.toFixed(0)} ms; ${latencies.length} concurrent requests (4 loops: find, 1 in 10 insert) ` +
          `meanwhile, all succeeded: median ${latencies[latencies.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
      );
    } finally {
      await admin.end();
      await cleanup();
    }
  });

  it('lets only one node clean at a time: while another holds the cleanup lock, deleteExpired removes nothing and answers 0', async () => {
    const { store, table, cleanup } = await openMysqlStore();
    const admin = await adminConnection();
    try {
      await seedExpired(admin, table, 50);
      const [[current]] = (await admin.query('SELECT DATABASE() AS db')) as unknown as [[{ db: string }]];
      const lock = cleanupLockName(current.db, table);
      const [[held]] = (await admin.query('SELECT GET_LOCK(?, 0) AS held', [lock])) as unknown as [[{ held: number }]];
      assert.equal(held.held, 1);
      assert.equal(await store.deleteExpired(T0), 0);
      assert.equal(await rowCount(admin, table), 50);
      await admin.query('SELECT RELEASE_LOCK(?)', [lock]);
      assert.equal(await store.deleteExpired(T0), 50);
      assert.equal(await rowCount(admin, table), 0);
    } finally {
      await admin.end();
      await cleanup();
    }
  });

  it('when two nodes clean at once, one does all of it and the other answers 0', async () => {
    const first = await openMysqlStore({ cleanupBatch: 500 });
    const second = await openMysqlStore({ table: first.table, cleanupBatch: 500, createTable: false });
    const admin = await adminConnection();
    try {
      await seedExpired(admin, first.table, 5000);
      const counts = await Promise.all([first.store.deleteExpired(T0), second.store.deleteExpired(T0)]);
      // Without the lock both would delete batches side by side (e.g. 2500 + 2500).
      assert.deepEqual([...counts].sort((a, b) => a - b), [0, 5000]);
      assert.equal(await rowCount(admin, first.table), 0);
    } finally {
      await admin.end();
      await second.store.close();
      await first.cleanup();
    }
  });
});
