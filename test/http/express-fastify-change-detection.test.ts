/**
 * What counts as "changed" for the automatic save of req.session /
 * request.session (data-snapshot.ts): every storable type compares by value,
 * a nested change is a change, and anything the store would refuse (a Map,
 * a cycle, nesting past the codec's bound) counts as changed, so the save
 * runs and reports why instead of the value being silently dropped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyData, sameData } from '../../src/http/data-snapshot.ts';

function unchangedAfterCopy(value: unknown): boolean {
  return sameData(copyData(value), value);
}

describe('session data change detection', () => {
  it('sees no change in a copy of any storable value', () => {
    const values: unknown[] = [
      {},
      { a: 1, b: 'two', c: true, d: null, e: undefined },
      { when: new Date(1_700_000_000_000), bytes: Buffer.from([1, 2, 3]), raw: new Uint8Array([4, 5]), big: 2n ** 70n },
      { nested: { list: [1, [2, { three: 3 }]], empty: [] } },
      { nan: Number.NaN, negativeZero: -0, infinite: Number.POSITIVE_INFINITY },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      Object.assign(Object.create(null), { bare: 1 }),
    ];
    for (const value of values) assert.ok(unchangedAfterCopy(value), JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  });

  it('copies deeply: changing the data afterwards is seen, at any depth', () => {
    const data: Record<string, unknown> = { cart: ['a'], profile: { name: 'ada', tags: ['x'] }, when: new Date(0), bytes: Buffer.from('ab') };
    const snapshot = copyData(data);
    (data.cart as string[]).push('b');
    assert.equal(sameData(snapshot, data), false, 'an array push');
    const second = copyData(data);
    ((data.profile as { tags: string[] }).tags as string[])[0] = 'y';
    assert.equal(sameData(second, data), false, 'a nested array element');
    const third = copyData(data);
    (data.when as Date).setTime(1);
    assert.equal(sameData(third, data), false, 'a Date mutated in place');
    const fourth = copyData(data);
    (data.bytes as Buffer)[0] = 0;
    assert.equal(sameData(fourth, data), false, 'a byte changed in place');
  });

  it('sees added, removed and retyped keys, and undefined versus absent', () => {
    assert.equal(sameData({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(sameData({ a: 1, b: 2 }, { a: 1 }), false);
    assert.equal(sameData({ a: 1 }, { a: '1' }), false);
    assert.equal(sameData({ a: 1n }, { a: 1 }), false);
    assert.equal(sameData({ a: [1] }, { a: { 0: 1 } }), false);
    assert.equal(sameData({ a: new Date(0) }, { a: '1970-01-01T00:00:00.000Z' }), false);
    assert.equal(sameData({ a: undefined }, {}), false);
    assert.equal(sameData({ a: Buffer.from([1]) }, { a: Buffer.from([1, 0]) }), false);
  });

  it('treats -0 as 0 (the store does) and NaN as itself', () => {
    assert.equal(sameData({ n: 0 }, { n: -0 }), true);
    assert.equal(sameData({ n: Number.NaN }, { n: Number.NaN }), true);
  });

  it('counts values the store refuses as changed, without looping on cycles or deep nesting', () => {
    assert.equal(sameData(copyData({ m: new Map() }), { m: new Map() }), false, 'a Map');
    class Point {
      x = 1;
    }
    const point = { p: new Point() };
    assert.equal(sameData(copyData(point), point), false, 'a class instance, even the same one');
    const fn = { f: () => 1 };
    assert.equal(sameData(copyData(fn), fn), false, 'a function');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.equal(sameData({ a: 1, self: { a: 1 } }, cyclic), false, 'a cycle ends, as a change');
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 2000; i++) deep = deep.next = {} as Record<string, unknown>;
    assert.equal(sameData(copyData(root), root), false, 'past the nesting bound');
  });
});
