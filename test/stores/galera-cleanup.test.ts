/**
 * Cleanup on a Galera cluster: GET_LOCK is local to one database node, so
 * app nodes on different database nodes clean at the same time. That is
 * harmless: every batch deletes only rows already expired, a batch that
 * loses its certification race to another node's batch removed nothing and
 * is not counted, and live sessions are never touched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appNode, dropTableOn, galeraUrls, statusOf, untilApplied, type AppNode } from '../helpers/galera.ts';
import { T0, testKey } from '../helpers/manager.ts';
import { uniqueTable } from '../helpers/mysql.ts';
import mysql from 'mysql2/promise';

const EXPIRED = 3000;
const LIVE = 300;

async function count(url: string, table: string, where: string): Promise<number> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    await connection.query('SET SESSION wsrep_sync_wait = 1');
    const [rows] = await connection.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`);
    return Number((rows as Array<{ n: number }>)[0]!.n);
  } finally {
    await connection.end();
  }
}

describe('Galera: overlapping cleanups from app nodes on different database nodes', () => {
  let urls: string[];
  const table = uniqueTable('gclean');
  const nodes: AppNode[] = [];

  before(async () => {
    urls = galeraUrls();
    const key = testKey();
    // Small batches and no pause: many batches, so the three cleanups really run side by side.
    for (const url of urls) nodes.push(await appNode({ uri: url, cleanupBatch: 100, cleanupPauseMs: 0 }, table, key));
  });

  after(async () => {
    await Promise.all(nodes.map((node) => node.manager.close()));
    if (urls) await dropTableOn(urls[0]!, table);
  });

  it('removes every expired row exactly once between them, counts each once, and keeps every live session', async (t) => {
    const admin = await mysql.createConnection({ uri: urls[0] });
    try {
      const insert = (from: number, count: number, expiresAt: number) =>
        admin.query(
          `INSERT INTO \`${table}\` (id, version, user_id, tenant_id, expires_at, data) ` +
            `SELECT UNHEX(SHA2(seq, 256)), 1, NULL, NULL, ?, x'00' FROM seq_${from}_to_${from + count - 1}`,
          [expiresAt],
        );
      await insert(1, EXPIRED, T0 - 1000);
      await insert(EXPIRED + 1, LIVE, T0 + 3_600_000);
    } finally {
      await admin.end();
    }
    for (const url of urls) await untilApplied(url, table);
    const certFailuresBefore = await Promise.all(urls.map((url) => statusOf(url, 'wsrep_local_cert_failures')));

    // Every app node's clock reads T0: the same rows are expired for all three.
    const outcomes = await Promise.allSettled(nodes.map((node) => node.manager.cleanupExpired()));
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => String(o.reason));
    assert.deepEqual(failures, [], 'no cleanup failed');
    const removed = outcomes.map((o) => (o as PromiseFulfilledResult<number>).value);
    const certFailures = (await Promise.all(urls.map((url) => statusOf(url, 'wsrep_local_cert_failures')))).map((n, i) => n - certFailuresBefore[i]!);
    t.diagnostic(`removed per app node: ${removed.join(', ')}; certification failures per database node: ${certFailures.join(', ')}`);

    for (const url of urls) {
      assert.equal(await count(url, table, `expires_at <= ${T0}`), 0, 'no expired row is left');
      assert.equal(await count(url, table, `expires_at > ${T0}`), LIVE, 'every live row is kept');
    }
    // A row is counted by the one cleanup whose batch committed it: the counts add up to what was there.
    assert.equal(removed.reduce((sum, n) => sum + n, 0), EXPIRED);
    // And a cleanup with nothing left to do finds nothing.
    assert.equal(await nodes[1]!.manager.cleanupExpired(), 0);
  });
});
