import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, HOUR, rejectsWithCode } from '../helpers/manager.ts';

describe('sessions of one user', () => {
  it('lists the live sessions of a user, and only theirs', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR });
    const mine = await Promise.all([1, 2, 3].map(() => manager.create(context({ userId: 'alice' }))));
    await manager.create(context({ userId: 'bob' }));
    await manager.create(context());
    const listed = await manager.listForUser('alice');
    assert.deepEqual(listed.map((s) => s.id).sort(), mine.map((s) => s.id).sort());
    assert.ok(listed.every((s) => s.userId === 'alice'));
    clock.advance(HOUR);
    assert.deepEqual(await manager.listForUser('alice'), [], 'expired sessions are not listed');
    await manager.close();
  });

  it('finds a session by the user set on it before a save', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    session.userId = 'carol';
    await manager.save(ctx, session);
    assert.deepEqual((await manager.listForUser('carol')).map((s) => s.id), [session.id]);
    await manager.close();
  });

  it('destroys all sessions of a user except the current one', async () => {
    const { manager } = await cacheManager();
    const sessions = await Promise.all([1, 2, 3, 4].map(() => manager.create(context({ userId: 'dave' }))));
    const other = await manager.create(context({ userId: 'erin' }));
    const keep = sessions[0]!;
    assert.equal(await manager.destroyAllForUser('dave', { except: keep.id }), 3);
    assert.deepEqual((await manager.listForUser('dave')).map((s) => s.id), [keep.id]);
    for (const s of sessions.slice(1)) await rejectsWithCode(manager.load(context(), s.id), 'ERR_SESSION_NOT_FOUND');
    assert.equal(await manager.isValid(other.id), true);
    assert.equal(await manager.destroyAllForUser('dave'), 1);
    assert.equal(await manager.destroyAllForUser('nobody'), 0);
    await manager.close();
  });

  it('refuses an empty user id', async () => {
    const { manager } = await cacheManager();
    await rejectsWithCode(manager.listForUser(''), 'ERR_SESSION_DATA');
    await rejectsWithCode(manager.destroyAllForUser(''), 'ERR_SESSION_DATA');
    await manager.close();
  });

  it('refuses a limit that is not a positive integer, rather than listing nothing or everything', async () => {
    const { manager } = await cacheManager();
    await manager.create(context({ userId: 'frank' }));
    for (const limit of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) await rejectsWithCode(manager.listForUser('frank', { limit }), 'ERR_SESSION_DATA');
    assert.equal((await manager.listForUser('frank', { limit: 1 })).length, 1);
    await manager.close();
  });
});
