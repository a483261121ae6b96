/**
 * data/storable.ts sizes a value as msgpackr encodes it, exactly, at every
 * boundary of the format, so maxDataBytes is enforced without encoding and
 * a huge input is refused before it is walked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { prepareData, prepareValue } from '../../src/data/storable.ts';

/** The codec's settings (src/codec.ts). */
const packr = new Packr({ useRecords: false, useBigIntExtension: true, mapsAsObjects: true });

const boundaries: Array<[string, unknown]> = [
  ...[0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -0, NaN, Infinity].map(
    (n): [string, unknown] => [`number ${n}`, n],
  ),
  ...[0, 31, 32, 255, 256, 65535, 65536].map((n): [string, unknown] => [`string of ${n}`, 'x'.repeat(n)]),
  ['multi-byte and astral characters', 'é€𝄞'.repeat(50)],
  ['a lone surrogate (stored as U+FFFD)', 'a\ud800b'],
  ...[0, 15, 16, 65535, 65536].map((n): [string, unknown] => [`array of ${n}`, new Array(n).fill(1)]),
  ...[0, 15, 16, 300].map((n): [string, unknown] => [`object of ${n} keys`, Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))]),
  ['object of 65535 keys', Object.fromEntries(Array.from({ length: 65535 }, (_, i) => [`k${i}`, 0]))],
  ...[0, 1000, 1500, -1, 2 ** 34 * 1000, -(2 ** 40)].map((ms): [string, unknown] => [`Date at ${ms} ms`, new Date(ms)]),
  ...[0, 255, 256, 65535, 65536].map((n): [string, unknown] => [`${n} bytes`, Buffer.alloc(n, 7)]),
  ['a Uint8Array', new Uint8Array([1, 2, 3])],
  ...[0n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 63n) - 1n, 2n ** 127n, -(2n ** 127n), 2n ** 1000n, -(2n ** 1000n), 2n ** 70_000n, -(2n ** 70_003n)].map(
    (n): [string, unknown] => [`bigint of ${n.toString(2).length} bits${n < 0n ? ', negative' : ''}`, n],
  ),
  ['null, booleans and undefined', [null, true, false, undefined]],
];

describe('prepared values are sized as msgpackr encodes them', () => {
  for (const [what, value] of boundaries) {
    it(`sizes ${what} exactly`, () => {
      assert.equal(prepareValue(value, 'v', Infinity).encodedBytes, packr.pack(value).byteLength);
    });
  }
});

it('refuses an object of more keys than the codec can write (65535) with ERR_SESSION_DATA', () => {
  const wide = Object.fromEntries(Array.from({ length: 65536 }, (_, i) => [`k${i}`, 0]));
  assert.throws(() => prepareValue({ wide }, 'data', Infinity), { code: 'ERR_SESSION_DATA', message: /data\.wide has 65536 keys/ });
});

describe('maxDataBytes is enforced while walking', () => {
  it('refuses data one byte over the limit and accepts it at the limit', () => {
    const data = { blob: 'x'.repeat(1000) };
    const size = prepareData(data, Infinity).encodedBytes;
    assert.equal(prepareData(data, size).encodedBytes, size);
    assert.throws(() => prepareData(data, size - 1), { code: 'ERR_SESSION_DATA', message: /maxDataBytes/ });
  });

  it('refuses a sparse array of length 5e7 on its length, without walking or copying it', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    assert.throws(() => prepareData({ huge: new Array(5e7) }, 64 * 1024), { code: 'ERR_SESSION_DATA', message: /data\.huge/ });
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 50 * 1024 * 1024, 'no copy of 5e7 slots was made');
  });

  it('stops at the first string that passes the limit, naming where it is', () => {
    assert.throws(() => prepareData({ a: 'x'.repeat(10), deep: { list: ['y'.repeat(100_000)] } }, 64 * 1024), { message: /data\.deep\.list\[0\]/ });
  });
});
