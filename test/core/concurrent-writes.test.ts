import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionManager } from '../../src/manager.ts';
import type { SessionStore } from '../../src/stores/store.ts';
import { cacheManager, context, FakeClock, testKey } from '../helpers/manager.ts';
import { GatedStore, nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

/**
 * Two managers over one persistent store: two "processes" whose only shared
 * truth is the store's compare-and-swap. staleMs 0: every read asks the
 * store, so these tests see exactly what landed (staleness has its own tests).
 */
function twoNodes(): [SessionManager, SessionManager, SessionStore] {
  const clock = new FakeClock();
  const store = new SharedMemoryStore();
  const key = testKey();
  const node = () => nodeOver(store, { encryptionKey: key, now: clock.read, cache: { staleMs: 0 } });
  return [node(), node(), store];
}

describe('concurrent writers never lose each other', () => {
  it('keeps both keys when two requests load, change different keys and save', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const created = await manager.create(ctx);
    const a = await manager.load(ctx, created.id);
    const b = await manager.load(ctx, created.id);
    a.data.theme = 'dark';
    b.data.language = 'en';
    await Promise.all([manager.save(ctx, a), manager.save(ctx, b)]);
    assert.deepEqual((await manager.load(ctx, created.id)).data, { theme: 'dark', language: 'en' });
    await manager.close();
  });

  it('keeps another writer\'s key when one Session object is saved twice without waiting, the first save merging', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const created = await manager.create(ctx);
    await manager.set(created.id, 'a', 1);
    const stale = await manager.load(ctx, created.id);
    const other = await manager.load(ctx, created.id);
    other.data.b = 2;
    other.userId = 'u-other';
    await manager.save(ctx, other);
    // The first save loses its CAS and merges; the second, queued behind it, must merge from the same baseline.
    await Promise.all([manager.save(ctx, stale), manager.save(ctx, stale)]);
    const stored = await manager.load(ctx, created.id);
    assert.deepEqual(stored.data, { a: 1, b: 2 });
    assert.equal(stored.userId, 'u-other');
    await manager.close();
  });

  it('keeps what the object changed between two saves made without waiting: a key deleted, a user logged out', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    session.data.flash = 'saved';
    session.userId = 'u-1';
    const first = manager.save(ctx, session);
    delete session.data.flash;
    session.userId = null;
    const second = manager.save(ctx, session);
    await Promise.all([first, second]);
    const stored = await manager.load(ctx, session.id);
    assert.equal('flash' in stored.data, false, 'the deletion made after the first save landed');
    assert.equal(stored.userId, null, 'and so did the logout');
    assert.equal('flash' in session.data, false);
    await manager.close();
  });

  it('applies a stale save on top of newer data: its own changes win, the rest is kept', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    session.data = { keep: 1, drop: 2, mine: 'old' };
    await manager.save(ctx, session);
    const stale = await manager.load(ctx, session.id);
    await manager.set(session.id, 'mine', 'theirs');
    await manager.set(session.id, 'added', true);
    stale.data.mine = 'ours';
    delete stale.data.drop;
    await manager.save(ctx, stale);
    const stored = (await manager.load(ctx, session.id)).data;
    assert.deepEqual(stored, { keep: 1, mine: 'ours', added: true });
    assert.deepEqual(stale.data, stored, 'the saved object now shows what was stored');
    await manager.close();
  });

  it('lets the last writer of one key win with its whole value', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    const a = await manager.load(ctx, session.id);
    const b = await manager.load(ctx, session.id);
    a.data.cart = ['a1', 'a2'];
    b.data.cart = ['b1'];
    await manager.save(ctx, a);
    await manager.save(ctx, b);
    assert.deepEqual(await manager.get(session.id, 'cart'), ['b1']);
    await manager.close();
  });

  it('counts 100 concurrent update()s of one key exactly', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    await Promise.all(Array.from({ length: 100 }, () => manager.update(session.id, 'hits', (n) => ((n as number | undefined) ?? 0) + 1)));
    assert.equal(await manager.get(session.id, 'hits'), 100);
    await manager.close();
  });

  it('counts 100 update()s split across two nodes sharing a store (retrying on CAS conflicts)', async () => {
    const [a, b] = twoNodes();
    const session = await a.create(context());
    const bump = (m: SessionManager) => m.update(session.id, 'hits', (n) => ((n as number | undefined) ?? 0) + 1);
    await Promise.all(Array.from({ length: 100 }, (_, i) => bump(i % 2 ? a : b)));
    assert.equal(await b.get(session.id, 'hits'), 100);
  });

  it('keeps 50 distinct keys set concurrently from two nodes', async () => {
    const [a, b] = twoNodes();
    const session = await a.create(context());
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).set(session.id, `k${i}`, i)));
    const data = (await a.load(context(), session.id)).data;
    assert.equal(Object.keys(data).length, 50);
    for (let i = 0; i < 50; i++) assert.equal(data[`k${i}`], i);
  });

  it('merges saves of different keys made on two nodes from the same stale read', async () => {
    const [a, b] = twoNodes();
    const ctx = context();
    const created = await a.create(ctx);
    const onA = await a.load(ctx, created.id);
    const onB = await b.load(ctx, created.id);
    onA.data.fromA = 1;
    onB.data.fromB = 2;
    await Promise.all([a.save(ctx, onA), b.save(ctx, onB)]);
    assert.deepEqual((await a.load(ctx, created.id)).data, { fromA: 1, fromB: 2 });
  });

  it('runs set, delete and clear atomically against each other', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    await manager.set(session.id, 'a', 1);
    await Promise.all([manager.set(session.id, 'b', 2), manager.delete(session.id, 'a'), manager.set(session.id, 'c', 3)]);
    assert.deepEqual((await manager.load(context(), session.id)).data, { b: 2, c: 3 });
    await manager.clear(session.id);
    assert.deepEqual((await manager.load(context(), session.id)).data, {});
    assert.equal(await manager.isValid(session.id), true, 'clear keeps the session');
    await manager.close();
  });
});

describe('a save that had to merge', () => {
  it('keeps the changes the application made while it was in flight, for the next save', async () => {
    const clock = new FakeClock();
    const encryptionKey = testKey();
    const store = new GatedStore();
    const a = nodeOver(store, { encryptionKey, now: clock.read, cache: { staleMs: 0 } });
    const b = nodeOver(store, { encryptionKey, now: clock.read, cache: { staleMs: 0 } });
    const session = await a.create(context());
    session.data.mine = 1;
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (store.entered = resolve));
    const saving = a.save(null, session);
    await entered;
    await b.set(session.id, 'theirs', 2); // the save will lose its CAS and merge
    (session.data as Record<string, unknown>).inFlight = 3; // changed while the save is in flight
    release();
    await saving;
    assert.deepEqual(session.data, { mine: 1, theirs: 2, inFlight: 3 }, 'merged, and the in-flight change kept');
    assert.deepEqual((await b.load(context(), session.id)).data, { mine: 1, theirs: 2 }, 'the in-flight change is not stored yet');
    await a.save(null, session);
    assert.deepEqual((await b.load(context(), session.id)).data, { mine: 1, theirs: 2, inFlight: 3 }, 'the next save writes it');
  });
});
