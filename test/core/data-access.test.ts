import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, rejectsWithCode } from '../helpers/manager.ts';

class Cart {
  items = [];
}

describe('get, set, delete, clear, update', () => {
  it('get returns a stored value and ERR_SESSION_KEY_NOT_FOUND for a missing key (also for inherited names)', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    await manager.set(session.id, 'user_id', 'u42');
    assert.equal(await manager.get(session.id, 'user_id'), 'u42');
    for (const missing of ['cart', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      await rejectsWithCode(manager.get(session.id, missing), 'ERR_SESSION_KEY_NOT_FOUND');
    }
    await manager.close();
  });

  it('delete removes a key, and deleting a missing key is a no-op', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    await manager.set(session.id, 'a', 1);
    await manager.delete(session.id, 'a');
    await manager.delete(session.id, 'never-there');
    await rejectsWithCode(manager.get(session.id, 'a'), 'ERR_SESSION_KEY_NOT_FOUND');
    await manager.close();
  });

  it('update passes the current value, stores the result, and removes the key when fn returns undefined', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    assert.deepEqual(await manager.update(session.id, 'cart', (cart) => [...((cart as string[] | undefined) ?? []), 'p1']), ['p1']);
    assert.deepEqual(await manager.update(session.id, 'cart', async (cart) => [...((cart as string[] | undefined) ?? []), 'p2']), ['p1', 'p2']);
    await manager.update(session.id, 'cart', () => undefined);
    await rejectsWithCode(manager.get(session.id, 'cart'), 'ERR_SESSION_KEY_NOT_FOUND');
    await manager.close();
  });

  it('an update whose fn throws writes nothing and passes the error on', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    await manager.set(session.id, 'n', 1);
    await assert.rejects(manager.update(session.id, 'n', () => { throw new Error('nope'); }), /nope/);
    assert.equal(await manager.get(session.id, 'n'), 1);
    await manager.close();
  });
});

describe('values that cannot be stored are refused with ERR_SESSION_DATA and nothing is written', () => {
  const unstorable: Array<[string, unknown]> = [
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a class instance', new Cart()],
    ['a Map', new Map([[1, 2]])],
    ['a Set', new Set([1])],
    ['a RegExp', /x/],
    ['an Error', new Error('e')],
    ['a Promise', Promise.resolve(1)],
    ['a Float32Array', new Float32Array(2)],
    ['an invalid Date', new Date(NaN)],
    ['a nested function', { deep: [{ fn() {} }] }],
    ['an object with symbol keys', { [Symbol('k')]: 1 }],
  ];

  for (const [what, value] of unstorable) {
    it(`refuses ${what} in set(), update() and save()`, async () => {
      const { manager } = await cacheManager();
      const ctx = context();
      const session = await manager.create(ctx);
      await manager.set(session.id, 'ok', 1);
      await rejectsWithCode(manager.set(session.id, 'bad', value), 'ERR_SESSION_DATA');
      // update() awaits fn's result, so the value goes inside an array to reach the check as itself.
      await rejectsWithCode(manager.update(session.id, 'bad', () => [value]), 'ERR_SESSION_DATA');
      const loaded = await manager.load(ctx, session.id);
      loaded.data.bad = value;
      loaded.data.other = 'not written either';
      await rejectsWithCode(manager.save(ctx, loaded), 'ERR_SESSION_DATA');
      assert.deepEqual((await manager.load(ctx, session.id)).data, { ok: 1 });
      await manager.close();
    });
  }

  it('refuses a cycle and names where it is', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    const loop: Record<string, unknown> = { a: {} };
    (loop.a as Record<string, unknown>).back = loop;
    session.data.loop = loop;
    await assert.rejects(manager.save(ctx, session), (e: Error & { code?: string }) => e.code === 'ERR_SESSION_DATA' && /data\.loop\.a\.back/.test(e.message));
    await manager.close();
  });

  it('refuses data over maxDataBytes', async () => {
    const { manager } = await cacheManager({ maxDataBytes: 1024 });
    const ctx = context();
    const session = await manager.create(ctx);
    await rejectsWithCode(manager.set(session.id, 'blob', 'x'.repeat(2000)), 'ERR_SESSION_DATA');
    session.data.blob = 'x'.repeat(2000);
    await rejectsWithCode(manager.save(ctx, session), 'ERR_SESSION_DATA');
    await manager.close();
  });

  it('refuses a non-string key', async () => {
    const { manager } = await cacheManager();
    const session = await manager.create(context());
    await rejectsWithCode(manager.set(session.id, 5 as never, 1), 'ERR_SESSION_DATA');
    await manager.close();
  });
});
