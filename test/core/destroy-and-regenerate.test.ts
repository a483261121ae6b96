import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, cookieHeaderFrom, FakeClock, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { GatedStore, nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

describe('destroy is final', () => {
  it('a late save, refresh, set or update never brings a destroyed session back', async () => {
    const { manager, clock } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    const copy = await manager.load(ctx, session.id);
    await manager.destroy(ctx, session.id);
    copy.data.revived = true;
    await rejectsWithCode(manager.save(ctx, copy), 'ERR_SESSION_NOT_FOUND');
    clock.advance(10 * 60_000);
    await rejectsWithCode(manager.refresh(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(manager.set(session.id, 'k', 1), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(manager.update(session.id, 'k', () => 1), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(manager.load(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
    assert.equal(await manager.isValid(session.id), false);
    assert.equal(await manager.isExpired(session.id), true);
    await manager.close();
  });

  it('a save in flight on another node when the session is destroyed fails and writes nothing', async () => {
    const clock = new FakeClock();
    const key = testKey();
    const store = new GatedStore();
    const nodeA = nodeOver(store, { encryptionKey: key, now: clock.read });
    const nodeB = nodeOver(store, { encryptionKey: key, now: clock.read });
    const ctx = context();
    const session = await nodeA.create(ctx);
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (store.entered = resolve));
    session.data.late = 'write';
    const save = nodeA.save(ctx, session);
    await entered;
    await nodeB.destroy(ctx, session.id);
    release();
    await rejectsWithCode(save, 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(nodeB.load(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
  });

  it('destroy of an unknown or malformed id resolves (idempotent)', async () => {
    const { manager } = await cacheManager();
    await manager.destroy(context(), 'A'.repeat(43));
    await manager.destroy(context(), '../../etc/passwd');
    await manager.close();
  });
});

describe('regenerate', () => {
  it('moves the data to a new id, kills the old id and its cookie, and sets the new cookie', async () => {
    const { manager } = await cacheManager();
    const ctx = context({ userId: 'u1' });
    const session = await manager.create(ctx);
    session.data.cart = ['x'];
    await manager.save(ctx, session);
    await manager.setCookie(ctx, session);
    const oldCookie = cookieHeaderFrom(ctx);

    const renewed = await manager.regenerate(ctx, session);
    assert.notEqual(renewed.id, session.id);
    assert.deepEqual(renewed.data, { cart: ['x'] });
    assert.equal(renewed.userId, 'u1');
    assert.equal(renewed.createdAt.getTime(), session.createdAt.getTime(), 'the absolute lifetime still counts from the original creation');
    await rejectsWithCode(manager.load(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: oldCookie })), 'ERR_SESSION_NOT_FOUND');
    const fromNewCookie = await manager.getSessionFromCookie(context({ cookieHeader: cookieHeaderFrom(ctx) }));
    assert.equal(fromNewCookie.id, renewed.id);
    await manager.close();
  });

  it('never brings a session destroyed on another node back under a new id', async () => {
    const clock = new FakeClock();
    const key = testKey();
    const store = new SharedMemoryStore();
    const nodeA = nodeOver(store, { encryptionKey: key, now: clock.read });
    const nodeB = nodeOver(store, { encryptionKey: key, now: clock.read });
    const ctx = context({ userId: 'victim' });
    const stale = await nodeA.create(ctx);
    await nodeB.destroy(ctx, stale.id); // "log out" elsewhere
    await rejectsWithCode(nodeA.regenerate(ctx, stale), 'ERR_SESSION_NOT_FOUND');
    assert.deepEqual(await nodeA.listForUser('victim'), []);
    assert.deepEqual(ctx.setCookies, []);
  });

  it('keeps a concurrent write to the old id made before the move', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    await manager.set(session.id, 'written-elsewhere', 1); // the object does not know about it
    session.data.mine = 2;
    const renewed = await manager.regenerate(ctx, session);
    assert.deepEqual(renewed.data, { 'written-elsewhere': 1, mine: 2 });
    await manager.close();
  });

  it('refuses to regenerate an object that did not come from the manager', async () => {
    const { manager } = await cacheManager();
    await rejectsWithCode(manager.regenerate(context(), { id: 'x', data: {} } as never), 'ERR_SESSION_DATA');
    await manager.close();
  });
});
