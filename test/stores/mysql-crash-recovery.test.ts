/**
 * kill -9 of the database in the middle of a write load, then a restart on
 * the same datadir. The server is a throwaway of this test's own (the
 * shared test server is left alone).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariaDb, type MariaDbServer } from '../../scripts/mariadb.mjs';
import { createSessionManager, type SessionManager } from '../../src/index.ts';
import { testKey } from '../helpers/manager.ts';
import { codeOf, markMysqlTestRan, timed, uniqueTable } from '../helpers/mysql.ts';
import mysql from 'mysql2/promise';

const DEADLINE = 2000;
/** Scheduling noise allowed past a deadline on a busy 2-core machine. */
const SLACK = 500;
const WORKERS = 6;
const ctx = { appendSetCookie: () => {} };

interface Progress {
  /** Highest value of data.n the library acknowledged. */
  acknowledged: number;
  /** Highest value ever sent (acknowledged or not). */
  attempted: number;
}

function databaseManager(url: string, table: string, key: Buffer, staleMs: number): Promise<SessionManager> {
  return createSessionManager({
    storageType: 'database',
    database: { uri: url, table, operationTimeout: DEADLINE, poolSize: 4 },
    encryptionKey: key,
    cache: { staleMs },
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
  });
}

it('keeps every acknowledged write through kill -9, fails calls during the outage within the deadline, and recovers without a restart', async (t) => {
  markMysqlTestRan();
  const testStarted = performance.now();
  let server: MariaDbServer | undefined = await startMariaDb();
  const serverStartMs = performance.now() - testStarted;
  const { port, dir } = server;
  const table = uniqueTable('crash');
  const key = testKey();
  let manager: SessionManager | undefined;
  try {
    const admin = await mysql.createConnection(server.url);
    const [settings] = await admin.query('SELECT @@innodb_flush_log_at_trx_commit AS flush');
    await admin.end();
    assert.equal((settings as Array<{ flush: number }>)[0]?.flush, 1, 'durability at the server default: commit flushes the redo log');

    manager = await databaseManager(server.url, table, key, 0);
    const live = manager;
    const progress = new Map<string, Progress>();
    const failures: Array<{ ms: number; code: string | undefined; endedAt: number }> = [];
    let acknowledgedWrites = 0;
    let stop = false;

    const worker = async (): Promise<void> => {
      let id: string | undefined;
      let n = 0;
      while (!stop) {
        const call = (): Promise<unknown> => (id === undefined ? live.create(ctx) : live.set(id, 'n', n + 1));
        if (id !== undefined) progress.get(id)!.attempted = n + 1;
        const result = await timed(call);
        if (result.error !== undefined) {
          failures.push({ ms: result.ms, code: codeOf(result.error), endedAt: performance.now() });
          await sleep(10);
          continue;
        }
        acknowledgedWrites++;
        if (id === undefined) {
          id = (result.value as { id: string }).id;
          progress.set(id, { acknowledged: 0, attempted: 0 });
        } else {
          n++;
          progress.get(id)!.acknowledged = n;
          if (n % 25 === 0) id = undefined; // spread the load over many rows
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, worker);

    for (let waited = 0; acknowledgedWrites < 300 && waited < 20_000; waited += 10) await sleep(10);
    assert.ok(acknowledgedWrites >= 300, 'the write load is running');
    const killedAt = performance.now();
    server.signal('SIGKILL');
    await server.exited();
    await sleep(1500); // the outage: the workers keep calling

    const restartBegan = performance.now();
    server = await startMariaDb({ dir, port });
    const restartMs = performance.now() - restartBegan;
    let recoveredAt = 0;
    for (let attempt = 0; attempt < 100 && !recoveredAt; attempt++) {
      if ((await timed(() => live.create(ctx))).error === undefined) recoveredAt = performance.now();
      else await sleep(100);
    }
    assert.ok(recoveredAt > 0, 'the same manager works again once the server is back');
    const writesAtRecovery = acknowledgedWrites;
    await sleep(500);
    stop = true;
    await Promise.all(workers);
    assert.ok(acknowledgedWrites > writesAtRecovery, 'the load goes on after recovery');

    const duringOutage = failures.filter((f) => f.endedAt >= killedAt);
    t.diagnostic(
      `server start ${serverStartMs.toFixed(0)} ms, load to kill ${(killedAt - testStarted - serverStartMs).toFixed(0)} ms, ` +
        `restart ${restartMs.toFixed(0)} ms; ${acknowledgedWrites} writes acknowledged over ${progress.size} sessions; ` +
        `${duringOutage.length} calls failed during the outage, slowest after ${Math.max(...duringOutage.map((f) => f.ms)).toFixed(0)} ms; ` +
        `recovered ${(recoveredAt - restartBegan - restartMs).toFixed(0)} ms after the server was back`,
    );
    assert.deepEqual(failures.filter((f) => f.endedAt < killedAt), [], 'no failure before the kill');
    assert.ok(duringOutage.length > 0, 'calls were made during the outage');
    for (const failure of duringOutage) {
      assert.equal(failure.code, 'ERR_SESSION_STORE');
      assert.ok(failure.ms < DEADLINE + SLACK, `a call failed after ${failure.ms.toFixed(0)} ms (deadline ${DEADLINE})`);
    }
    assert.deepEqual(failures.filter((f) => f.endedAt - f.ms > recoveredAt), [], 'no failure of a call started after recovery');

    // Read back through a fresh manager that has no cache to answer from.
    const reader = await databaseManager(server.url, table, key, 0);
    try {
      for (const [id, { acknowledged, attempted }] of progress) {
        const { data } = await reader.load(ctx, id);
        const stored = (data.n as number | undefined) ?? 0;
        assert.ok(stored >= acknowledged && stored <= attempted, `session has n=${stored}; acknowledged ${acknowledged}, attempted up to ${attempted}`);
      }
    } finally {
      await reader.close();
    }
  } finally {
    await manager?.close();
    await server?.stop();
  }
});
