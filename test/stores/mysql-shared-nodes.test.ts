/**
 * Several app nodes on one database: two managers in this process and two
 * node processes, each with its own pool and its own LRU cache, whose
 * staleness bound is made large so that only the compare-and-swap in MySQL
 * stands between a stale read and a lost write.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { testKey } from '../helpers/manager.ts';
import { adminConnection, codeOf, dropTable, mysqlManager, mysqlUrl, uniqueTable } from '../helpers/mysql.ts';

const run = promisify(execFile);
const STALE_FOR_A_MINUTE = { cache: { staleMs: 60_000 } };
const ctx = { appendSetCookie: () => {} };

interface Acknowledged {
  sets: string[];
  increments: number;
  failures: string[];
}

/** The same work as test/helpers/mysql-node-process.ts, on a manager in this process. */
async function nodeWork(manager: Awaited<ReturnType<typeof mysqlManager>>['manager'], id: string, node: string, ops: number): Promise<Acknowledged> {
  const acknowledged: Acknowledged = { sets: [], increments: 0, failures: [] };
  await Promise.all(
    Array.from({ length: ops }, async (_, i) => {
      const key = `${node}-${i}`;
      try {
        await manager.set(id, key, i);
        acknowledged.sets.push(key);
      } catch (error) {
        acknowledged.failures.push(`set ${key}: ${codeOf(error)}`);
      }
      try {
        await manager.update(id, 'counter', (n) => ((n as number | undefined) ?? 0) + 1);
        acknowledged.increments++;
      } catch (error) {
        acknowledged.failures.push(`increment: ${codeOf(error)}`);
      }
    }),
  );
  return acknowledged;
}

async function nodeProcess(job: Record<string, unknown>): Promise<Acknowledged> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/helpers/mysql-node-process.ts', JSON.stringify(job)], {
    timeout: 60_000,
    env: process.env,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Acknowledged;
}

describe('MySQL store shared by several nodes', () => {
  const tables: string[] = [];
  after(async () => {
    for (const table of tables) await dropTable(table);
  });

  it('loses no set of distinct keys and no increment of one key across two managers and two processes', async () => {
    const table = uniqueTable('shared');
    tables.push(table);
    const key = testKey();
    // Real clocks here: the child processes cannot share an injected one.
    const a = await mysqlManager(table, { encryptionKey: key, now: Date.now, ...STALE_FOR_A_MINUTE });
    const b = await mysqlManager(table, { encryptionKey: key, now: Date.now, ...STALE_FOR_A_MINUTE });
    const fresh = await mysqlManager(table, { encryptionKey: key, now: Date.now, cache: { staleMs: 0 } });
    try {
      const session = await a.manager.create(ctx);
      // Both in-process managers cache the session before the others start writing.
      await a.manager.load(ctx, session.id);
      await b.manager.load(ctx, session.id);
      const ops = 30;
      const job = { url: mysqlUrl(), table, key: key.toString('base64'), id: session.id, ops, staleMs: 60_000 };
      const results = await Promise.all([
        nodeWork(a.manager, session.id, 'a', ops),
        nodeWork(b.manager, session.id, 'b', ops),
        nodeProcess({ ...job, node: 'p1' }),
        nodeProcess({ ...job, node: 'p2' }),
      ]);
      const data = (await fresh.manager.load(ctx, session.id)).data;
      const acknowledgedSets = results.flatMap((r) => r.sets);
      const acknowledgedIncrements = results.reduce((sum, r) => sum + r.increments, 0);
      for (const name of acknowledgedSets) assert.equal(data[name], Number(name.split('-')[1]), `acknowledged set ${name} is there`);
      assert.equal(data.counter, acknowledgedIncrements, 'every acknowledged increment counted once');
      assert.deepEqual(results.flatMap((r) => r.failures), [], 'no write gave up');
      assert.equal(acknowledgedSets.length, 4 * ops);
    } finally {
      await Promise.all([a.manager.close(), b.manager.close(), fresh.manager.close()]);
    }
  });

  it('never lets a node with a stale cached copy undo a destroy done on another node', async () => {
    const table = uniqueTable('destroy');
    tables.push(table);
    const key = testKey();
    const a = await mysqlManager(table, { encryptionKey: key, ...STALE_FOR_A_MINUTE });
    const b = await mysqlManager(table, { encryptionKey: key, ...STALE_FOR_A_MINUTE });
    try {
      const created = await a.manager.create({ ...ctx, userId: 'u1' });
      await a.manager.set(created.id, 'x', 1);
      const seenByB = await b.manager.load(ctx, created.id); // now cached on B
      await a.manager.destroy(ctx, created.id);

      seenByB.data.y = 2;
      await assert.rejects(b.manager.save(ctx, seenByB), (e) => codeOf(e) === 'ERR_SESSION_NOT_FOUND');
      await assert.rejects(b.manager.set(created.id, 'z', 3), (e) => codeOf(e) === 'ERR_SESSION_NOT_FOUND');
      await assert.rejects(b.manager.update(created.id, 'x', () => 9), (e) => codeOf(e) === 'ERR_SESSION_NOT_FOUND');
      b.clock.advance(2 * 60 * 60 * 1000); // past touchThreshold, so refresh really tries to write
      await assert.rejects(b.manager.refresh(ctx, created.id), (e) => codeOf(e) === 'ERR_SESSION_NOT_FOUND' || codeOf(e) === 'ERR_SESSION_EXPIRED');

      const admin = await adminConnection();
      const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
      await admin.end();
      assert.equal((rows as Array<{ n: number }>)[0]?.n, 0, 'no row came back');
      await assert.rejects(a.manager.load(ctx, created.id), (e) => codeOf(e) === 'ERR_SESSION_NOT_FOUND');
    } finally {
      await Promise.all([a.manager.close(), b.manager.close()]);
    }
  });

  it('stops every write of the other node from the moment a destroy is acknowledged', async () => {
    const table = uniqueTable('race');
    tables.push(table);
    const key = testKey();
    const a = await mysqlManager(table, { encryptionKey: key, ...STALE_FOR_A_MINUTE });
    const b = await mysqlManager(table, { encryptionKey: key, ...STALE_FOR_A_MINUTE });
    try {
      const { id } = await a.manager.create(ctx);
      // The writer runs until it has started a few writes after the destroy was acknowledged (bounded in count),
      // so how fast either node is cannot make the race empty. It yields to the event loop after every write: once
      // B has seen the row gone, its writes fail from memory (microtasks only), and a loop of those alone would
      // keep A's destroy from ever hearing back from the database.
      let destroyedAt = Infinity;
      const writesStartedAfterDestroy: Array<Promise<unknown>> = [];
      let writesBeforeDestroy = 0;
      let startDestroy!: () => void;
      const writerIsRunning = new Promise<void>((resolve) => (startDestroy = resolve));
      const writer = (async () => {
        for (let i = 0; i < 5000 && writesStartedAfterDestroy.length < 10; i++) {
          const startedAfter = performance.now() > destroyedAt;
          const write = b.manager.set(id, `k${i % 50}`, i);
          if (startedAfter) writesStartedAfterDestroy.push(write);
          else if (++writesBeforeDestroy === 5) startDestroy();
          await write.catch(() => {});
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await writerIsRunning;
      await a.manager.destroy(ctx, id);
      destroyedAt = performance.now();
      await writer;
      assert.ok(writesStartedAfterDestroy.length > 0, 'some writes started after the destroy');
      for (const write of writesStartedAfterDestroy) await assert.rejects(write, (e) => codeOf(e) === 'ERR_SESSION_NOT_FOUND');
      const admin = await adminConnection();
      const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
      await admin.end();
      assert.equal((rows as Array<{ n: number }>)[0]?.n, 0);
    } finally {
      await Promise.all([a.manager.close(), b.manager.close()]);
    }
  });
});
