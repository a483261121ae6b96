/**
 * Validation at the point of the mistake (issue 14): what save() is given
 * is checked, and what was checked is exactly what is written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, FakeClock, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { GatedStore, nodeOver } from '../helpers/shared-store.ts';

describe('save refuses what it cannot store, and writes nothing', () => {
  for (const [what, value] of [
    ['null', null],
    ['an array', ['a']],
    ['a string', 'data'],
    ['a number', 42],
    ['a Map', new Map([['a', 1]])],
    ['a class instance', new (class Cart {})()],
  ] as const) {
    it(`refuses session.data = ${what} with ERR_SESSION_DATA, and the session is untouched`, async () => {
      const { manager } = await cacheManager();
      const session = await manager.create(context());
      session.data.kept = 1;
      await manager.save(null, session);
      (session as { data: unknown }).data = value;
      await rejectsWithCode(manager.save(null, session), 'ERR_SESSION_DATA');
      assert.deepEqual((await manager.load(context(), session.id)).data, { kept: 1 });
      await manager.close();
    });
  }

  it('refuses a cycle with ERR_SESSION_DATA, never a RangeError', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    session.data.loop = loop;
    await assert.rejects(manager.save(null, session), { code: 'ERR_SESSION_DATA', message: /data\.loop\.self refers back to itself/ });
    await manager.close();
  });

  it('refuses a sparse array of length 5e7 as over maxDataBytes', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    session.data.sparse = new Array(5e7);
    await assert.rejects(manager.save(null, session), { code: 'ERR_SESSION_DATA', message: /maxDataBytes/ });
    await manager.close();
  });

  it('writes what it checked: a mutation during an in-flight save cannot slip a function, a Map or a cycle in', async () => {
    const store = new GatedStore();
    const manager = nodeOver(store, { encryptionKey: testKey(), now: new FakeClock().read });
    const session = await manager.create(context());
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (store.entered = resolve));
    session.data.step = 1;
    const save = manager.save(null, session);
    await entered;
    // While the write is in flight: all of these would be refused by a save.
    const data = session.data as Record<string, unknown>;
    data.fn = () => 'not storable';
    data.map = new Map([['k', 'v']]);
    data.self = data;
    data.step = 2;
    release();
    await save;
    const stored = (await nodeOver(store, { encryptionKey: manager.config.encryptionKey as Buffer, cache: { staleMs: 0 } }).load(context(), session.id)).data;
    assert.deepEqual(stored, { step: 1 }, 'exactly what the save was called with');
    await rejectsWithCode(manager.save(null, session), 'ERR_SESSION_DATA');
  });

  it('refuses a Session whose id was reassigned, rather than writing it under its old key', async () => {
    const { manager } = await cacheManager();
    const victim = await manager.create(context());
    const mine = await manager.create(context());
    (mine as { id: string }).id = victim.id;
    mine.data.takeover = true;
    await rejectsWithCode(manager.save(null, mine), 'ERR_SESSION_DATA');
    await rejectsWithCode(manager.regenerate(null, mine), 'ERR_SESSION_DATA');
    await rejectsWithCode(manager.setCookie(context(), mine), 'ERR_SESSION_DATA');
    assert.deepEqual((await manager.load(context(), victim.id)).data, {});
    await manager.close();
  });
});
