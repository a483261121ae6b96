/** msgpackr (the engine's record codec, src/codec.ts) against JSON, on a realistic session and on a 4 KiB cart. */
import { isDeepStrictEqual } from 'node:util';
import { decodeRecord, encodeRecord, type RecordFields } from '../../src/codec.ts';
import { check, runMicro, type MicroCase, type MicroResult } from '../micro.ts';

const T = 1_800_000_000_000;

/** What a logged-in web app typically keeps: ids, roles, a CSRF token, flash, preferences, a timestamp. */
export function realisticSession(): RecordFields {
  return {
    id: 'x'.repeat(43),
    createdAt: T,
    updatedAt: T + 5000,
    absoluteExpiresAt: T + 7 * 86_400_000,
    userId: 'user-48213',
    tenantId: 'acme',
    ipAddress: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    data: {
      userId: 48213,
      roles: ['user', 'editor'],
      csrf: 'q9Yx2m1Lr0Wk8vT3nB7cZp',
      flash: { type: 'success', message: 'Profile saved' },
      prefs: { theme: 'dark', lang: 'en-GB', tz: 'Europe/London' },
      lastSeen: T + 4000,
      returnTo: '/account/settings',
      mfa: true,
      loginCount: 17,
      cartId: null,
    },
  };
}

/** A cart of 40 line items, about 4 KiB of JSON. */
export function fourKiBCart(): RecordFields {
  const items = Array.from({ length: 40 }, (_, i) => ({
    sku: `SKU-${100000 + i}`,
    name: `Product number ${i} with a descriptive name`,
    qty: (i % 3) + 1,
    price: 1999 + i * 13,
    options: { size: i % 2 ? 'M' : 'L', color: 'navy' },
  }));
  return { ...realisticSession(), data: { ...realisticSession().data, cart: { currency: 'GBP', items, coupon: 'SPRING10' } } };
}

export function codecPayloadBytes(): { name: string; msgpack: number; json: number }[] {
  return [
    ['realistic session', realisticSession()],
    ['4 KiB cart', fourKiBCart()],
  ].map(([name, fields]) => ({
    name: name as string,
    msgpack: encodeRecord(fields as RecordFields, false).byteLength,
    json: Buffer.byteLength(JSON.stringify(fields)),
  }));
}

export async function codecCases(quick: boolean): Promise<MicroResult[]> {
  const cases: MicroCase[] = [];
  for (const [name, fields] of [
    ['realistic session', realisticSession()],
    ['4 KiB cart', fourKiBCart()],
  ] as const) {
    const packed = Buffer.from(encodeRecord(fields, false));
    const json = Buffer.from(JSON.stringify(fields));
    check(isDeepStrictEqual(decodeRecord(packed), fields), `msgpackr round trip of the ${name}`);
    check(isDeepStrictEqual(JSON.parse(json.toString()), fields), `JSON round trip of the ${name}`);
    const inner = name === '4 KiB cart' ? 16 : 128;
    const loop = (body: () => unknown) => () => {
      for (let i = 0; i < inner; i++) body();
    };
    cases.push({ name: `msgpackr encode, ${name} (${packed.length} B)`, inner, fn: loop(() => encodeRecord(fields, false)) });
    cases.push({ name: `JSON encode, ${name} (${json.length} B)`, inner, fn: loop(() => Buffer.from(JSON.stringify(fields))) });
    cases.push({ name: `msgpackr decode, ${name}`, inner, fn: loop(() => decodeRecord(packed)) });
    cases.push({ name: `JSON decode, ${name}`, inner, fn: loop(() => JSON.parse(json.toString())) });
  }
  return runMicro('codec', cases, quick);
}
