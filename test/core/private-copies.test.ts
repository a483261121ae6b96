/**
 * The in-process tier shares one immutable record per session; every
 * reader gets its own copy. Two loads never share mutable state, and a
 * change that is not saved never reaches the cache or another request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheManager, context, cookieHeaderFrom } from '../helpers/manager.ts';

async function withSession() {
  const t = await cacheManager();
  const ctx = context();
  const session = await t.manager.create(ctx);
  session.data = { cart: ['a'], profile: { name: 'Ada', tags: ['x'] }, when: new Date(0), bytes: Buffer.from([1, 2, 3]) };
  await t.manager.save(ctx, session);
  return { ...t, session, cookie: cookieHeaderFrom(ctx) };
}

describe('every reader gets a private copy', () => {
  it('gives two loads of one session independent data, nested values included', async () => {
    const { manager, session } = await withSession();
    const a = await manager.load(context(), session.id);
    const b = await manager.load(context(), session.id);
    assert.notEqual(a.data, b.data);
    (a.data.cart as string[]).push('mutated');
    (a.data.profile as { tags: string[] }).tags.push('mutated');
    (a.data.when as Date).setTime(123);
    (a.data.bytes as Buffer)[0] = 99;
    assert.deepEqual(b.data, { cart: ['a'], profile: { name: 'Ada', tags: ['x'] }, when: new Date(0), bytes: Buffer.from([1, 2, 3]) });
    await manager.close();
  });

  it('never lets an unsaved change reach the cache or another request', async () => {
    const { manager, session, cookie } = await withSession();
    const mine = await manager.getSessionFromCookie(context({ cookieHeader: cookie }));
    (mine.data.cart as string[]).push('unsaved');
    mine.data.extra = true;
    delete mine.data.profile;
    const other = await manager.getSessionFromCookie(context({ cookieHeader: cookie }));
    assert.deepEqual(other.data.cart, ['a']);
    assert.equal(other.data.extra, undefined);
    assert.ok(other.data.profile);
    const peeked = manager.peekSessionFromCookie(context({ cookieHeader: cookie }))!;
    assert.deepEqual(peeked.data.cart, ['a'], 'the synchronous hit path copies too');
    assert.deepEqual(await manager.get(session.id, 'cart'), ['a']);
    await manager.close();
  });

  it('gives session.get(key) a copy of that value alone: mutating it changes nothing, and data is not copied for it', async () => {
    const { manager, session } = await withSession();
    const loaded = await manager.load(context(), session.id);
    const cart = loaded.get('cart') as string[];
    cart.push('mutated');
    (loaded.get('when') as Date).setTime(123);
    assert.deepEqual(loaded.get('cart'), ['a'], 'a fresh copy each time');
    assert.deepEqual(loaded.data.cart, ['a'], "the session's data is untouched");
    assert.deepEqual((await manager.load(context(), session.id)).data.when, new Date(0), 'and so is the cache');
    assert.equal(loaded.get('missing'), undefined);
    assert.equal(loaded.get('toString'), undefined, 'inherited properties are not keys');
    await manager.close();
  });

  it('lets session.get(key) see unsaved changes once data has been used', async () => {
    const { manager, session } = await withSession();
    const loaded = await manager.load(context(), session.id);
    loaded.data.cart = ['b'];
    delete loaded.data.profile;
    assert.deepEqual(loaded.get('cart'), ['b']);
    assert.equal(loaded.get('profile'), undefined);
    (loaded.get('cart') as string[]).push('not saved');
    await manager.save(context(), loaded);
    assert.deepEqual((await manager.load(context(), session.id)).data.cart, ['b']);
    await manager.close();
  });

  it('hands out copies from get() and to update() functions, so mutating them changes nothing stored', async () => {
    const { manager, session } = await withSession();
    const cart = (await manager.get(session.id, 'cart')) as string[];
    cart.push('from get');
    await assert.rejects(
      manager.update(session.id, 'cart', (current) => {
        (current as string[]).push('from a failing update');
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(await manager.get(session.id, 'cart'), ['a']);
    await manager.close();
  });

  it('stores a copy of what set() and save() were given: later changes to the caller\'s objects are not written', async () => {
    const { manager, session } = await withSession();
    const value = { items: [1] };
    await manager.set(session.id, 'value', value);
    value.items.push(2);
    assert.deepEqual(await manager.get(session.id, 'value'), { items: [1] });
    const loaded = await manager.load(context(), session.id);
    const list = ['saved'];
    loaded.data.list = list;
    await manager.save(null, loaded);
    list.push('after the save');
    assert.deepEqual((await manager.load(context(), session.id)).data.list, ['saved']);
    await manager.close();
  });

  it('copies own keys only, whatever someone added to Object.prototype', async () => {
    const { manager, session } = await withSession();
    const proto = Object.prototype as Record<string, unknown>;
    proto.injected = { admin: true };
    try {
      const loaded = await manager.load(context(), session.id);
      assert.equal(Object.prototype.hasOwnProperty.call(loaded.data, 'injected'), false);
      assert.deepEqual(Object.keys(loaded.data).sort(), ['bytes', 'cart', 'profile', 'when']);
    } finally {
      delete proto.injected;
    }
    await manager.close();
  });
});
