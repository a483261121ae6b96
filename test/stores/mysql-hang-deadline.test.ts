/**
 * A frozen database (SIGSTOP): connections stay open but nothing answers,
 * the case mysql2's own timeouts do not cover. The server is a throwaway of
 * this test's own (the shared test server is left alone).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { startMariaDb, type MariaDbServer } from '../../scripts/mariadb.mjs';
import { createSessionManager, type SessionManager } from '../../src/index.ts';
import { testKey } from '../helpers/manager.ts';
import { codeOf, markMysqlTestRan, timed, uniqueTable } from '../helpers/mysql.ts';

const DEADLINE = 1000;
/** Scheduling noise allowed past a deadline on a busy 2-core machine. */
const SLACK = 500;
const POOL = 3;
const ctx = { appendSetCookie: () => {} };

it('ends every call by its deadline while the server is frozen, and serves again from a healthy pool after SIGCONT', async (t) => {
  markMysqlTestRan();
  const server: MariaDbServer = await startMariaDb();
  let manager: SessionManager | undefined;
  try {
    manager = await createSessionManager({
      storageType: 'database',
      database: { uri: server.url, table: uniqueTable('hang'), operationTimeout: DEADLINE, poolSize: POOL },
      encryptionKey: testKey(),
      cache: { staleMs: 0 }, // every load goes to the database
      cleanupInterval: 0,
      crypto: { mode: 'inline' },
    });
    const live = manager;
    const ids: string[] = [];
    for (let i = 0; i < 2 * POOL; i++) ids.push((await live.create(ctx)).id);
    // Every pooled connection has prepared statements and sits idle: the freeze hits them mid-use.
    await Promise.all(ids.map((id) => live.load(ctx, id)));

    server.signal('SIGSTOP');
    const callsWhileFrozen = (): Array<Promise<{ ms: number; error?: unknown }>> => [
      ...ids.map((id) => timed(() => live.load(ctx, id))),
      ...ids.slice(0, POOL).map((id) => timed(() => live.set(id, 'k', 1))),
      timed(() => live.create(ctx)),
      timed(() => live.cleanupExpired()),
    ];
    // First wave: the pooled connections freeze mid-statement; the rest wait for the pool.
    // Second wave: those connections were dropped, so new ones are opened to a server that never greets.
    const waves = [await Promise.all(callsWhileFrozen()), await Promise.all(callsWhileFrozen())];
    for (const wave of waves) {
      for (const call of wave) {
        assert.equal(codeOf(call.error), 'ERR_SESSION_STORE', `a call while frozen ended with ${String(call.error)}`);
        assert.ok(call.ms < DEADLINE + SLACK, `a call while frozen took ${call.ms.toFixed(0)} ms (deadline ${DEADLINE})`);
      }
    }
    const slowest = Math.max(...waves.flat().map((c) => c.ms));

    server.signal('SIGCONT');
    // Healthy again at once: more concurrent calls than connections, all answered within the deadline.
    const after = await Promise.all([...ids, ...ids, ...ids].map((id) => timed(() => live.load(ctx, id))));
    for (const call of after) {
      assert.equal(call.error, undefined, `a call after SIGCONT failed: ${String(call.error)}`);
      assert.ok(call.ms < DEADLINE + SLACK);
    }
    for (const id of ids) await live.set(id, 'after', true);
    for (const id of ids) assert.equal((await live.load(ctx, id)).data.after, true);
    t.diagnostic(`${waves.flat().length} calls while frozen, all ERR_SESSION_STORE, slowest ${slowest.toFixed(0)} ms (deadline ${DEADLINE} ms)`);

    // Closing while the server is frozen: nobody answers the goodbye, close() still ends by the deadline.
    server.signal('SIGSTOP');
    const closing = await timed(() => live.close());
    server.signal('SIGCONT');
    assert.equal(closing.error, undefined);
    assert.ok(closing.ms < DEADLINE + SLACK, `close took ${closing.ms.toFixed(0)} ms while the server was frozen`);
  } finally {
    await manager?.close();
    await server.stop(); // sends SIGCONT first
  }
});
