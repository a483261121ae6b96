/**
 * Two app nodes on a real multi-primary Galera cluster, each on its own
 * database node: certification failures (ER_LOCK_DEADLOCK, 1213) are lost
 * compare-and-swap rounds that the manager retries, so concurrent writers on
 * different nodes all succeed and all land, merges keep both sides, and a
 * destroy on one node is final for writers on another.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { context, cookieHeaderFrom, testKey } from '../helpers/manager.ts';
import { appNode, dropTableOn, galeraUrls, untilApplied, type AppNode } from '../helpers/galera.ts';
import { uniqueTable } from '../helpers/mysql.ts';
import { MysqlStore } from '../../src/stores/mysql.ts';
import { randomKey, recordWrite } from './contract.ts';

const codeOf = (error: unknown) => (error as { code?: string } | undefined)?.code;

describe('Galera: two app nodes on two database nodes', () => {
  let urls: string[];
  const table = uniqueTable('galera');
  const key = testKey();
  let a: AppNode;
  let b: AppNode;
  /** The reader that checks outcomes: every read goes to node 3, after untilApplied. */
  let reader: AppNode;

  before(async () => {
    urls = galeraUrls();
    // The staleness bound is made long: only the compare-and-swap in the cluster stands between a stale read and a lost write.
    a = await appNode({ uri: urls[0] }, table, key, { cache: { staleMs: 60_000 } });
    b = await appNode({ uri: urls[1] }, table, key, { cache: { staleMs: 60_000 } });
    reader = await appNode({ uri: urls[2] }, table, key, { cache: { staleMs: 0 } });
  });

  after(async () => {
    await Promise.all([a?.manager.close(), b?.manager.close(), reader?.manager.close()]);
    if (urls) await dropTableOn(urls[0]!, table);
  });

  async function settled(): Promise<void> {
    await untilApplied(urls[2]!, table);
  }

  it('runs 100 concurrent updates of one counter from both nodes: every one succeeds and every one lands', async () => {
    const session = await a.manager.create(context());
    await untilApplied(urls[1]!, table); // node 2 has the new session before b's first write
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).manager.update(session.id, 'counter', (n) => ((n as number | undefined) ?? 0) + 1)),
    );
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => `${codeOf(o.reason)}: ${(o.reason as Error).message}`);
    assert.deepEqual(failures, [], 'no update failed');
    await settled();
    assert.equal(await reader.manager.get(session.id, 'counter'), 100);
  });

  it('runs 200 concurrent sets of distinct keys from both nodes: every one succeeds and every key lands', async () => {
    const session = await a.manager.create(context());
    await untilApplied(urls[1]!, table);
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).manager.set(session.id, `k${i}`, i)));
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => `${codeOf(o.reason)}: ${(o.reason as Error).message}`);
    assert.deepEqual(failures, [], 'no set failed');
    await settled();
    const loaded = await reader.manager.load(context(), session.id);
    for (let i = 0; i < 200; i++) assert.equal(loaded.data[`k${i}`], i, `k${i} landed`);
  });

  it('keeps both sides of concurrent load-modify-save of different keys on different nodes', async () => {
    const session = await a.manager.create(context());
    await untilApplied(urls[1]!, table);
    for (let round = 0; round < 20; round++) {
      const onA = await a.manager.load(context(), session.id);
      const onB = await b.manager.load(context(), session.id);
      onA.data[`a${round}`] = round;
      onB.data[`b${round}`] = round;
      await Promise.all([a.manager.save(context(), onA), b.manager.save(context(), onB)]);
    }
    await settled();
    const loaded = await reader.manager.load(context(), session.id);
    for (let round = 0; round < 20; round++) {
      assert.equal(loaded.data[`a${round}`], round, `a${round} kept`);
      assert.equal(loaded.data[`b${round}`], round, `b${round} kept`);
    }
  });

  it('makes a destroy on one node final for writers on another, even mid-load', async () => {
    const session = await a.manager.create(context());
    await untilApplied(urls[1]!, table);
    const cached = await b.manager.load(context(), session.id); // b holds it in its cache (staleMs one minute)
    let destroyed = false;
    const writesAfterDestroy: string[] = [];
    const writer = (async () => {
      for (let i = 0; i < 200; i++) {
        const startedAfterDestroy = destroyed;
        try {
          await b.manager.update(session.id, 'n', (n) => ((n as number | undefined) ?? 0) + 1);
          if (startedAfterDestroy) writesAfterDestroy.push(`update ${i} succeeded after the destroy`);
        } catch (error) {
          if (!['ERR_SESSION_NOT_FOUND'].includes(codeOf(error) ?? '')) throw error;
          if (startedAfterDestroy) return;
        }
      }
    })();
    await b.manager.update(session.id, 'n', (n) => ((n as number | undefined) ?? 0) + 1);
    await a.manager.destroy(context(), session.id);
    destroyed = true;
    await writer;
    assert.deepEqual(writesAfterDestroy, []);
    // Every other way a stale copy could bring it back, from node 2.
    cached.data.revived = true;
    await assert.rejects(b.manager.save(context(), cached), (error) => codeOf(error) === 'ERR_SESSION_NOT_FOUND');
    await assert.rejects(b.manager.set(session.id, 'x', 1), (error) => codeOf(error) === 'ERR_SESSION_NOT_FOUND');
    for (const url of urls) await untilApplied(url, table);
    await assert.rejects(reader.manager.load(context(), session.id), (error) => codeOf(error) === 'ERR_SESSION_NOT_FOUND');
  });

  it('shows a client its own write at once through the other database node: the cookie carries the version, the store reads causally', async () => {
    const login = context();
    const session = await a.manager.regenerate(login, await a.manager.create(login));
    let cookie = cookieHeaderFrom(login);
    // A large record takes the other node a moment to apply: without a causal read, the older one would often be read.
    await a.manager.set(session.id, 'blob', 'x'.repeat(48 * 1024), context({ cookieHeader: cookie }));
    await untilApplied(urls[1]!, table);
    await b.manager.getSessionFromCookie(context({ cookieHeader: cookie })); // b caches it (staleMs one minute)
    for (let i = 1; i <= 30; i++) {
      const ctx = context({ cookieHeader: cookie });
      const [writer, reader] = i % 2 ? [a, b] : [b, a];
      await writer.manager.update(session.id, 'n', (n) => ((n as number | undefined) ?? 0) + 1, ctx);
      cookie = cookieHeaderFrom(ctx);
      const seen = await reader.manager.getSessionFromCookie(context({ cookieHeader: cookie }));
      assert.equal(seen.data.n, i, `write ${i}, read at once on the other app node and database node`);
    }
  });

  it('reads its own writes from another node when given the version it saw (find with minVersion, wsrep_sync_wait)', async (t) => {
    const onNode1 = new MysqlStore({ uri: urls[0], table, poolSize: 2 });
    const onNode2 = new MysqlStore({ uri: urls[1], table, poolSize: 2 });
    await Promise.all([onNode1.open(), onNode2.open()]);
    try {
      const storeKey = randomKey();
      await onNode1.insert(storeKey, recordWrite());
      let staleWithout = 0;
      // Large records take node 2 a moment to apply, so a plain read right after the write usually finds the older one.
      const large = () => recordWrite({ sealed: randomBytes(1024 * 1024) });
      for (let version = 1; version <= 100; version++) {
        assert.equal(await onNode1.update(storeKey, version, large()), true);
        // Right after the write on node 1, on node 2: a plain read may lag; a causal one never does.
        const [plain, causal] = await Promise.all([onNode2.find(storeKey), onNode2.find(storeKey, version + 1)]);
        if ((plain?.version ?? 0) < version + 1) staleWithout++;
        assert.ok((causal?.version ?? 0) >= version + 1, `version ${version + 1} seen on node 2 (got ${causal?.version})`);
      }
      // For information: how often node 2 had not yet applied node 1's write when read plainly.
      t.diagnostic(`plain reads on node 2 older than the write just made on node 1: ${staleWithout} of 100`);
    } finally {
      await Promise.all([onNode1.close(), onNode2.close()]);
    }
  });
});
