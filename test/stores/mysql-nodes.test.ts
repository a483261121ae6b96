/**
 * Several database nodes (database.nodes, on mysql2's PoolCluster), shown on
 * two plain servers: a throwaway of this test's own, which it freezes, and
 * the shared test server. They do not replicate, so a marker row that only
 * the first one holds tells which node answered a read.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startMariaDb, type MariaDbServer } from '../../scripts/mariadb.mjs';
import { MysqlStore } from '../../src/stores/mysql.ts';
import { codeOf, dropTable, markMysqlTestRan, mysqlUrl, timed, uniqueTable } from '../helpers/mysql.ts';
import { randomKey, recordWrite } from './contract.ts';

const DEADLINE = 1500;
/** Scheduling noise allowed past a deadline on a busy 2-core machine. */
const SLACK = 500;

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('MySQL store on several nodes', () => {
  let own: MariaDbServer;
  let shared: string;
  const table = uniqueTable('nodes');
  const marker = randomKey();
  const stores: MysqlStore[] = [];

  async function store(options: ConstructorParameters<typeof MysqlStore>[0]): Promise<MysqlStore> {
    const made = new MysqlStore({ table, operationTimeout: DEADLINE, poolSize: 2, ...options });
    stores.push(made);
    await made.open();
    return made;
  }

  before(async () => {
    markMysqlTestRan();
    shared = mysqlUrl();
    own = await startMariaDb();
    // The table on both servers; the marker row on the own one only.
    const onOwn = await store({ uri: own.url });
    await store({ uri: shared });
    await onOwn.insert(marker, recordWrite());
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await own?.stop();
    if (shared) await dropTable(table, shared);
  });

  it('skips a node that refuses connections: every operation runs on the next one, within its deadline', async () => {
    const refused = `mysql://rockstar:rockstar@127.0.0.1:${await closedPort()}/rockstar_test`;
    const cluster = await store({ nodes: [refused, own.url], selector: 'failover', restoreNodeTimeout: 60_000 });
    assert.equal(cluster.nodeCount, 2);
    for (let i = 0; i < 5; i++) {
      const read = await timed(() => cluster.find(marker));
      assert.equal(read.error, undefined);
      assert.equal((read.value as { version?: number } | null)?.version, 1, 'answered by the live node');
      assert.ok(read.ms < DEADLINE, `took ${read.ms.toFixed(0)} ms`);
    }
    const key = randomKey();
    assert.equal(await cluster.insert(key, recordWrite()), true);
    assert.equal(await cluster.update(key, 1, recordWrite()), true);
  });

  it('fails over from a frozen node within the deadline, never reuses its old connections, and uses it again once it is back', async (t) => {
    const restoreNodeTimeout = 1000;
    const cluster = await store({ nodes: [own.url, shared], selector: 'failover', restoreNodeTimeout });
    // Both pooled connections to the own server are open and idle.
    await Promise.all([cluster.find(marker), cluster.find(marker)]);
    assert.equal((await cluster.find(marker))?.version, 1, 'failover: the first node answers');

    own.signal('SIGSTOP');
    try {
      // The read in flight on the frozen node misses its deadline...
      const stuck = await timed(() => cluster.find(marker));
      assert.equal(codeOf(stuck.error), 'ERR_SESSION_STORE');
      assert.ok(stuck.ms < DEADLINE + SLACK, `the stuck read took ${stuck.ms.toFixed(0)} ms`);
      // ...and the next ones go to the other node at once (which has no marker row).
      const moved = await timed(() => cluster.find(marker));
      assert.equal(moved.error, undefined);
      assert.equal(moved.value, null, 'answered by the second node');
      assert.ok(moved.ms < DEADLINE / 2, `the read after failover took ${moved.ms.toFixed(0)} ms`);

      // Once restoreNodeTimeout has passed the frozen node is tried again: its idle connection from before the
      // freeze is not trusted (destroyed), a new one cannot be made within half the deadline, and PoolCluster
      // takes the operation to the other node in the half that is left.
      await new Promise((resolve) => setTimeout(resolve, restoreNodeTimeout + 100));
      const retried = await timed(() => cluster.find(marker));
      assert.equal(retried.error, undefined, `after restoreNodeTimeout: ${String(retried.error)}`);
      assert.equal(retried.value, null);
      assert.ok(retried.ms < DEADLINE + SLACK, `the read that tried the frozen node again took ${retried.ms.toFixed(0)} ms`);
      t.diagnostic(`frozen: stuck ${stuck.ms.toFixed(0)} ms, moved ${moved.ms.toFixed(0)} ms, retried ${retried.ms.toFixed(0)} ms`);
    } finally {
      own.signal('SIGCONT');
    }

    // Back: within a few restore periods the first node answers again.
    const until = performance.now() + 10 * restoreNodeTimeout;
    let back = false;
    while (!back && performance.now() < until) {
      back = (await cluster.find(marker))?.version === 1;
      if (!back) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(back, 'the first node serves again once it is back');
  });

  it('spreads operations over the nodes with round-robin', async () => {
    const cluster = await store({ nodes: [own.url, shared], selector: 'round-robin' });
    const answers = await Promise.all(Array.from({ length: 20 }, () => cluster.find(marker)));
    const fromOwn = answers.filter((found) => found?.version === 1).length;
    assert.ok(fromOwn > 0 && fromOwn < 20, `${fromOwn} of 20 reads answered by the first node`);
  });
});
