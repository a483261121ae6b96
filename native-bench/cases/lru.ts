/** lru-cache get/set as the cache store uses it: byte-sized entries, sized by byte length, 10 000 sessions. */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { check, runMicro, type MicroResult } from '../micro.ts';

export async function lruCases(quick: boolean): Promise<MicroResult[]> {
  const entries = 10_000;
  const cache = new LRUCache<string, Buffer>({ maxSize: 64 * 1024 * 1024, sizeCalculation: (b) => b.byteLength + 64 });
  const keys = Array.from({ length: entries }, () => randomBytes(32).toString('hex'));
  const value = randomBytes(300);
  for (const key of keys) cache.set(key, value);
  check(cache.get(keys[1234]!) === value && cache.size === entries, 'lru-cache holds what was set');
  const inner = 1000;
  let at = 0;
  const missKeys = Array.from({ length: 1000 }, () => randomBytes(32).toString('hex'));
  return runMicro(
    'lru-cache',
    [
      { name: `get (hit), ${entries} entries`, inner, fn: () => { for (let i = 0; i < inner; i++) cache.get(keys[(at = (at + 7) % entries)]!); } },
      { name: `get (miss), ${entries} entries`, inner, fn: () => { for (let i = 0; i < inner; i++) cache.get(missKeys[i]!); } },
      { name: `set (overwrite), ${entries} entries`, inner, fn: () => { for (let i = 0; i < inner; i++) cache.set(keys[(at = (at + 7) % entries)]!, value); } },
    ],
    quick,
  );
}
