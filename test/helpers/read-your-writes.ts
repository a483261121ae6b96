/**
 * Read-your-writes across nodes, as a suite any shared store runs: two
 * managers ("app nodes") over one store, with the default cache.staleMs and
 * one injected clock.
 *
 * - A client carries the version it wrote in its cookie: on the other node,
 *   whose cache holds an older copy, it sees its write at once (and never an
 *   older version afterwards).
 * - Anyone else sees the change within cache.staleMs.
 * - A logout on one node: the client's cookie is cleared; a copy of the old
 *   cookie replayed on the other node is served for at most cache.staleMs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionManager } from '../../src/index.ts';
import { context, cookieHeaderFrom, FakeClock, rejectsWithCode } from './manager.ts';

export interface TwoNodes {
  readonly a: SessionManager;
  readonly b: SessionManager;
  close(): Promise<void>;
}

export function readYourWritesSuite(name: string, twoNodes: (clock: FakeClock) => Promise<TwoNodes>): void {
  describe(`read-your-writes across two nodes: ${name}`, () => {
    it('shows a client its own write at once on the node that cached the older version', async () => {
      const clock = new FakeClock();
      const { a, b, close } = await twoNodes(clock);
      try {
        const login = context();
        const session = await a.regenerate(login, await a.create(login));
        let cookie = cookieHeaderFrom(login);
        const onB = await b.getSessionFromCookie(context({ cookieHeader: cookie }));
        assert.deepEqual(onB.data, {}, 'node B now caches version 2');
        for (let i = 1; i <= 10; i++) {
          const ctx = context({ cookieHeader: cookie });
          const writer = i % 2 ? a : b;
          await writer.update(session.id, 'n', (n) => ((n as number | undefined) ?? 0) + 1, ctx);
          cookie = cookieHeaderFrom(ctx);
          for (const reader of [a, b]) {
            const seen = await reader.getSessionFromCookie(context({ cookieHeader: cookie }));
            assert.equal(seen.data.n, i, `after write ${i} through ${writer === a ? 'A' : 'B'}, ${reader === a ? 'A' : 'B'} shows it`);
          }
        }
      } finally {
        await close();
      }
    });

    it('shows other clients the change within cache.staleMs, not necessarily at once', async () => {
      const clock = new FakeClock();
      const { a, b, close } = await twoNodes(clock);
      try {
        const ctx = context();
        const session = await a.create(ctx);
        await a.load(ctx, session.id);
        await b.load(ctx, session.id); // B caches version 1
        await a.set(session.id, 'changed', true); // someone else, without this client's cookie
        const soon = await b.load(ctx, session.id);
        assert.ok(soon.data.changed === undefined || soon.data.changed === true);
        clock.advance(1000); // cache.staleMs
        assert.equal((await b.load(ctx, session.id)).data.changed, true, 'seen once staleMs has passed');
      } finally {
        await close();
      }
    });

    it('ends a session logged out on one node for a replayed cookie on the other within cache.staleMs', async () => {
      const clock = new FakeClock();
      const { a, b, close } = await twoNodes(clock);
      try {
        const login = context();
        const session = await a.regenerate(login, await a.create(login));
        const cookie = cookieHeaderFrom(login);
        await b.getSessionFromCookie(context({ cookieHeader: cookie })); // B caches it
        await a.destroy(null, session.id);
        await rejectsWithCode(a.getSessionFromCookie(context({ cookieHeader: cookie })), 'ERR_SESSION_NOT_FOUND');
        clock.advance(1000);
        await rejectsWithCode(b.getSessionFromCookie(context({ cookieHeader: cookie })), 'ERR_SESSION_NOT_FOUND');
      } finally {
        await close();
      }
    });
  });
}
