import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeRecord, encodeRecord, type RecordFields } from '../../src/codec.ts';
import { metaSizes, prepareData } from '../../src/data/storable.ts';
import { cacheManager, context } from '../helpers/manager.ts';

/** What a stored value reads back as: plain prototypes, Buffer for Uint8Array, 0 for -0. */
function normalize(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return Array.from(value, normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, { value: normalize((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '__proto_'),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

const leaf = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 64 }),
);

const { value: storable } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
}));

const sessionData = fc.dictionary(key, storable, { maxKeys: 8 });

/** A chain `depth` objects deep, ending in a marker. */
function deepNest(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { end: 'marker' };
  for (let i = 0; i < depth; i++) value = { [i % 2 ? 'a' : '__proto__']: value };
  return value;
}

function fieldsWith(data: Record<string, unknown>): RecordFields {
  return { id: 'x'.repeat(43), createdAt: 1, updatedAt: 2, absoluteExpiresAt: 3, userId: 'ü', tenantId: null, ipAddress: '::1', userAgent: null, data };
}

describe('session data round-trips exactly', () => {
  it('through the record codec, for arbitrary storable data', () => {
    fc.assert(
      fc.property(sessionData, (data) => {
        const prepared = prepareData(data, Infinity);
        const plaintext = encodeRecord(fieldsWith(prepared.value), prepared.hasProtoKeys);
        const decoded = decodeRecord(plaintext);
        assert.ok(decoded);
        assert.deepStrictEqual(decoded.data, normalize(data));
        assert.equal(Object.getPrototypeOf(decoded.data), Object.prototype, 'no prototype was set from data');
      }),
      { numRuns: 500 },
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('measures the encoded size exactly, so maxDataBytes needs no encode', () => {
    fc.assert(
      fc.property(sessionData, (data) => {
        const fields = fieldsWith(data);
        const prepared = prepareData(data, Infinity);
        const encoded = encodeRecord({ ...fields, data: prepared.value }, prepared.hasProtoKeys).byteLength;
        assert.equal(metaSizes(fields).encodedBytes + prepared.encodedBytes, encoded);
      }),
      { numRuns: 500 },
    );
  });

  it('copies what it checks: the prepared data shares no object with what was given', () => {
    fc.assert(
      fc.property(sessionData, (data) => {
        const given = new Set<object>();
        const collect = (value: unknown): void => {
          if (typeof value === 'object' && value !== null) {
            given.add(value);
            for (const inner of Object.values(value)) collect(inner);
          }
        };
        collect(data);
        const walk = (value: unknown): void => {
          if (typeof value === 'object' && value !== null) {
            assert.ok(!given.has(value), 'an object of the input reached the copy');
            for (const inner of Object.values(value)) walk(inner);
          }
        };
        walk(prepareData(data, Infinity).value);
      }),
      { numRuns: 300 },
    );
  });

  it('through save and load on the manager', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    await fc.assert(
      fc.asyncProperty(sessionData, async (data) => {
        const session = await manager.create(ctx);
        session.data = data;
        await manager.save(ctx, session);
        const loaded = await manager.load(ctx, session.id);
        assert.deepStrictEqual(loaded.data, normalize(data));
      }),
      { numRuns: 200 },
    );
    await manager.close();
  });

  it('keeps an own __proto__ key as data, never as a prototype', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    session.data = JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"polluted": 1}}}');
    await manager.save(ctx, session);
    const loaded = await manager.load(ctx, session.id);
    assert.equal((loaded.data as { isAdmin?: boolean }).isAdmin, undefined);
    assert.deepEqual(Object.keys(loaded.data), ['__proto__', 'constructor']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(loaded.data, '__proto__')?.value, { isAdmin: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    await manager.set(session.id, '__proto__', 'still data');
    assert.equal(await manager.get(session.id, '__proto__'), 'still data');
    await manager.close();
  });

  it('round-trips deep nesting up to the documented limit of 512 levels', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    session.data = { deep: deepNest(500) };
    await manager.save(ctx, session);
    assert.deepStrictEqual((await manager.load(ctx, session.id)).data, normalize({ deep: deepNest(500) }));
    await manager.close();
  });

  it('round-trips unicode keys and values, Dates, bytes and bigints of any size', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    const data = { 'ключ 🔑': 'значение 🎸', when: new Date(Date.UTC(2026, 10, 28)), bytes: new Uint8Array([0, 255, 7]), small: 7n, huge: -(2n ** 300n), float: 0.1 + 0.2, nan: NaN };
    session.data = { ...data };
    await manager.save(ctx, session);
    const loaded = await manager.load(ctx, session.id);
    assert.deepStrictEqual(loaded.data, normalize(data));
    assert.equal(typeof loaded.data.small, 'bigint');
    assert.ok(loaded.data.when instanceof Date);
    await manager.close();
  });
});
