/**
 * One paragraph per section saying what the numbers mean, written from this
 * run's figures (so the words never contradict the table beside them),
 * including where we are not ahead.
 */
import type { FamilyResult, Measurement } from './lib/results.ts';
import { formatRatio, ratioOf, type Ratio } from './lib/ratios.ts';
import { formatValue, formatWithUnit } from './lib/format.ts';
import { median } from './lib/stats.ts';

class View {
  readonly #byId = new Map<string, Measurement>();
  readonly #notRun = new Map<string, string>();

  constructor(family: FamilyResult) {
    for (const m of family.measurements) this.#byId.set(m.id, m);
    for (const n of family.notRun) this.#notRun.set(n.id, n.reason);
  }

  get(id: string): Measurement | undefined {
    return this.#byId.get(id);
  }

  has(...ids: string[]): boolean {
    return ids.every((id) => this.#byId.has(id));
  }

  value(id: string): string {
    const m = this.#byId.get(id)!;
    return formatWithUnit(median(m.values), m.unit);
  }

  /** "3.1× (runs 2.9–3.4×)" for how many times better a is than b. */
  ratio(a: string, b: string): string {
    return formatRatio(ratioOf(this.#byId.get(a)!, this.#byId.get(b)!));
  }

  range(a: string, b: string): Ratio {
    return ratioOf(this.#byId.get(a)!, this.#byId.get(b)!);
  }

  times(a: string, b: string): number {
    return ratioOf(this.#byId.get(a)!, this.#byId.get(b)!).median;
  }

  /** "ahead of X by 3.1×" or "behind X: it does 2.0× our rate". */
  compare(ours: string, peer: string, peerName: string): string {
    const t = this.times(ours, peer);
    if (t >= 1.05) return `ahead of ${peerName} by ${this.ratio(ours, peer)}`;
    if (t > 0.95) return `level with ${peerName} (${this.ratio(ours, peer)})`;
    return `behind ${peerName}, which is ahead by ${this.ratio(peer, ours)}`;
  }

  reason(id: string): string {
    return this.#notRun.get(id) ?? 'not measured';
  }
}

function codec(v: View): string {
  const parts: string[] = [];
  if (v.has('codec.cookie.aead', 'codec.cookie.raw')) {
    const t = v.times('codec.cookie.raw', 'codec.cookie.aead');
    parts.push(
      `Issue 2 compares our cookie seal + open with a raw sodium-native loop on the same 38 bytes (fresh random nonce per seal, buffers preallocated): the raw loop does ${v.ratio('codec.cookie.raw', 'codec.cookie.aead')} our rate (goal: at most 1.3×)` +
        (t < 1
          ? ', so we are faster than the raw loop: we draw nonces from a pre-filled pool instead of calling randombytes_buf (a syscall) per seal.'
          : ', the gap being the per-call allocations, the key-id header and the payload packing that the raw loop skips.'),
    );
  }
  if (v.has('codec.cookie.aead', 'codec.cookie.cipher-only')) {
    parts.push(
      `Against the cipher alone (nonce reused, which no real code may do), our seal + open costs ${v.ratio('codec.cookie.cipher-only', 'codec.cookie.aead')} its time: that is the whole overhead of the engine's token layer over libsodium.`,
    );
  }
  if (v.has('codec.cookie.token', 'codec.cookie.fastify-secure-session', 'codec.cookie.iron-session')) {
    parts.push(
      `With the cookie text included, our token round trip (${v.value('codec.cookie.token')}) is ${v.compare('codec.cookie.token', 'codec.cookie.fastify-secure-session', '@fastify/secure-session')} and ${v.compare('codec.cookie.token', 'codec.cookie.iron-session', 'iron-session')}; ` +
        'iron-session derives its keys with PBKDF2 on every seal and unseal, which is why it is orders of magnitude slower than both libsodium-based codecs.',
    );
  }
  if (v.has('codec.cookie.manager', 'codec.cookie.fastify-secure-session')) {
    parts.push(
      `The whole manager path (setCookie, then getSessionFromCookie, ${v.value('codec.cookie.manager')}) also finds, opens and decodes the server-side record, so it does more than a stateless cookie codec: ` +
        `it is ${v.compare('codec.cookie.manager', 'codec.cookie.fastify-secure-session', '@fastify/secure-session encode + decode')}.`,
    );
  }
  if (v.has('codec.record.ours', 'codec.record.json-secretbox')) {
    parts.push(`For records at rest, msgpackr + XChaCha20-Poly1305 is ${v.compare('codec.record.ours', 'codec.record.json-secretbox', 'JSON + crypto_secretbox')}, with smaller bytes and Dates, bigints and binary kept.`);
  }
  return parts.join(' ');
}

const STORE_PEERS: Record<string, string> = { cache: 'memorystore', filesystem: 'session-file-store', database: 'express-mysql-session' };

function stores(v: View): string {
  const parts: string[] = [];
  for (const [store, peer] of Object.entries(STORE_PEERS)) {
    const id = (op: string, side: string) => `stores.${store}.${op}.${side}`;
    if (!v.has(id('cycle', 'ours'), id('cycle', 'peer'))) {
      parts.push(`The ${store} comparison did not run: ${v.reason(v.has(id('cycle', 'ours')) ? id('cycle', 'peer') : id('cycle', 'ours'))}.`);
      continue;
    }
    parts.push(
      `${store[0]!.toUpperCase()}${store.slice(1)}: on a load + save cycle we are ${v.compare(id('cycle', 'ours'), id('cycle', 'peer'), peer)}; ` +
        `on a hot read ${v.compare(id('hit', 'ours'), id('hit', 'peer'), peer)}; on writes ${v.compare(id('write', 'ours'), id('write', 'peer'), peer)}.`,
    );
    if (store === 'database') {
      parts.push(
        'Our hot read is served by the write-through LRU (each entry for at most cache.staleMs, 1 s by default, before it is read from MariaDB again); express-mysql-session asks MariaDB on every read. ' +
          'Every write on both sides is one committed InnoDB statement, flushed at each commit (the server default): ours a compare-and-swap UPDATE on the record version, sealed first; express-mysql-session an upsert of plaintext JSON.',
      );
    }
    if (store === 'filesystem') {
      parts.push(
        'Both filesystem stores fsync each write by default (ours: temp file, fsync, link into place; session-file-store: write-file-atomic); our hot reads come from the LRU in front, session-file-store reads and parses the file each time.',
      );
    }
    if (store === 'filesystem' && v.has(id('write', 'ours-nofsync'), id('write', 'peer'))) {
      const gain = v.times(id('write', 'ours-nofsync'), id('write', 'ours'));
      parts.push(
        `With filesystem.fsync = false, our writes are ${v.compare(id('write', 'ours-nofsync'), id('write', 'peer'), 'session-file-store (which still flushes)')}, ${gain.toFixed(1)}× our default: ` +
          (gain >= 3
            ? 'the flush per write is most of what a write costs.'
            : "so the flush is only part of a write's cost; the rest is the store's own file operations per write (temp file, link into place, take and retire the old version)."),
      );
    }
    if (store === 'cache' && v.times(id('cycle', 'ours'), id('cycle', 'peer')) < 1) {
      parts.push('memorystore keeps one plaintext JSON string per session and does no cryptography; we do not win the cycle row.');
    }
    if (store === 'cache' && v.has(id('cookie', 'ours'), id('cookie', 'peer'))) {
      parts.push(
        `From the Cookie header, as a request reads it, ours (getSessionFromCookie, ${v.value(id('cookie', 'ours'))}) is ${v.compare(id('cookie', 'ours'), id('cookie', 'peer'), "express-session's read (cookie parse, HMAC signature check, memorystore get)")}.`,
      );
    }
    if (store === 'cache' && v.has(id('cookie', 'ours'), id('cookie', 'ours-no-version-check'))) {
      const r = v.range(id('cookie', 'ours-no-version-check'), id('cookie', 'ours'));
      parts.push(
        `With the record-version check switched off, that read runs at ${v.ratio(id('cookie', 'ours-no-version-check'), id('cookie', 'ours'))} the rate with it` +
          (r.min <= 1 && r.max >= 1
            ? ': the runs disagree on the sign, so what the check costs a hit is within the noise of these runs.'
            : r.median > 1
              ? `, so the check adds about ${((r.median - 1) * 100).toFixed(0)}% to a hit.`
              : ': every run with the check was faster, which only noise can do; take it as no measurable cost.'),
      );
    } else if (store === 'cache' && v.has(id('cookie', 'ours'))) {
      parts.push(`What the record-version check adds to a hit was not measured: ${v.reason(id('cookie', 'ours-no-version-check'))}.`);
    }
  }
  return parts.join(' ');
}

const HTTP_PEERS: readonly (readonly [id: string, name: string, goal?: string])[] = [
  ['fastify-secure-session', 'fastify + @fastify/secure-session', 'goal ≥ 2.5×'],
  ['fastify-session', 'fastify + @fastify/session'],
  ['express-session', 'express + express-session', 'goal ≥ 12×'],
  ['express-session-file', 'express + express-session with session-file-store'],
];

function latency(v: View, id: string): string {
  const m = v.get(id);
  if (!m?.extra?.p50 || !m.extra.p99) return '';
  return `p50 ${formatValue(median(m.extra.p50), 'ms')} ms and p99 ${formatValue(median(m.extra.p99), 'ms')} ms`;
}

function http(v: View): string {
  const parts: string[] = [];
  const read = (id: string) => `http.read.${id}`;
  const cart = (id: string) => `http.cart.${id}`;
  if (v.has(read('ours-uws'))) {
    const shares = [
      v.has(read('uws-json')) ? `${v.ratio(read('ours-uws'), read('uws-json'))} of the same-JSON ceiling (goal ≥ 0.85×)` : `no share of the same-JSON ceiling (${v.reason(read('uws-json'))})`,
      v.has(read('uws-hello')) ? `${v.ratio(read('ours-uws'), read('uws-hello'))} of uWS hello world` : '',
    ].filter(Boolean);
    parts.push(
      `Ours on uWS serves GET /profile at ${v.value(read('ours-uws'))}: ${shares.join(', and ')}. ` +
        'Every contender is loaded by the same wrk command (one thread, 64 connections) on the 2 cores it shares with the server, so a ceiling is what one server core serves to one wrk thread here, not uWS\'s limit on a bigger machine; ratios compare contenders under that same limit.',
    );
    const against = HTTP_PEERS.filter(([id]) => v.has(read(id))).map(([id, name, goal]) => `${v.ratio(read('ours-uws'), read(id))} ${name}${goal ? ` (${goal})` : ''}`);
    if (against.length > 0) parts.push(`Against the peers, on the same run, it is ${against.join(', ')}.`);
    const ours = latency(v, read('ours-uws'));
    if (ours) {
      const ceiling = latency(v, read('uws-json'));
      parts.push(`Under that load its latency is ${ours} (medians over runs)${ceiling ? `; the same-JSON ceiling's is ${ceiling}` : ''}.`);
    }
  } else {
    parts.push(`Ours on uWS did not run: ${v.reason(read('ours-uws'))}.`);
  }
  if (v.has(read('ours-node'), read('fastify-secure-session'))) {
    parts.push(`On node:http, ours is ${v.compare(read('ours-node'), read('fastify-secure-session'), 'fastify + @fastify/secure-session')} on reads (both on node's own HTTP stack).`);
  } else if (!v.has(read('ours-node'))) {
    parts.push(`Ours on node:http did not run: ${v.reason(read('ours-node'))}.`);
  }
  for (const [ours, name, peers] of [
    ['express-ours', 'Express with our middleware', [['express-session', 'express-session with its MemoryStore'], ['express-session-file', 'express-session with session-file-store']]],
    ['fastify-ours', 'Fastify with our plugin', [['fastify-session', '@fastify/session'], ['fastify-secure-session', '@fastify/secure-session']]],
  ] as const) {
    if (!v.has(read(ours))) {
      parts.push(`${name} did not run: ${v.reason(read(ours))}.`);
      continue;
    }
    const rows = peers
      .filter(([peer]) => v.has(read(peer)))
      .map(([peer, peerName]) => `against ${peerName} ${v.ratio(read(ours), read(peer))} on reads${v.has(cart(ours), cart(peer)) ? ` and ${v.ratio(cart(ours), cart(peer))} on cart writes` : ''}`);
    parts.push(`${name} serves GET /profile at ${v.value(read(ours))}${rows.length ? `: ${rows.join('; ')}` : ''}.`);
  }
  if (v.has(cart('ours-uws'), cart('fastify-secure-session'))) {
    const others = [['express-session', 'express + express-session'], ['fastify-session', 'fastify + @fastify/session']]
      .filter(([id]) => v.has(cart(id!)))
      .map(([id, name]) => `${v.compare(cart('ours-uws'), cart(id!), name!)}`);
    parts.push(
      `On the cart write every request changes the session and re-issues its cookie: ours on uWS (${v.value(cart('ours-uws'))}) is ${v.compare(cart('ours-uws'), cart('fastify-secure-session'), '@fastify/secure-session')}` +
        `${others.length ? `, ${others.join(', ')}` : ''}. @fastify/secure-session stores nothing server-side, and since the load resends each login cookie, every one of its writes starts from that cookie's empty cart.`,
    );
  }
  const login = (id: string) => `http.login.${id}`;
  if (v.has(login('ours-uws'), login('fastify-secure-session'))) {
    parts.push(
      `On the login mix every request creates and stores a session and sets a cookie; ours on uWS is ${v.compare(login('ours-uws'), login('fastify-secure-session'), 'fastify + @fastify/secure-session (which stores nothing server-side)')}.`,
    );
  }
  const cookie = v.get('http.cookie.ours-uws');
  if (cookie) {
    const peers = HTTP_PEERS.map(([id, name]) => [v.get(`http.cookie.${id}`), name] as const)
      .filter(([m]) => m)
      .map(([m, name]) => `${name} ${m!.values[0]}`);
    parts.push(
      `A login's Set-Cookie value is ${cookie.values[0]} characters for ours (a ${cookie.extra?.token?.[0] ?? '?'}-character token, which carries the record version since issue 12)` +
        `${peers.length ? `; ${peers.join(', ')}` : ''}. @fastify/secure-session's cookie holds the whole session, so it grows with the data; the others hold an id.`,
    );
  }
  return parts.join(' ');
}

function memory(v: View, family: FamilyResult): string {
  const parts: string[] = [];
  const perSession = (id: string): number => Math.round(v.get(id)?.values[0] ?? Number.NaN);
  for (const count of [100_000, 1_000_000]) {
    const ours = `memory.ours.${count}`;
    if (!v.has(ours)) continue;
    const peer = `memory.memorystore.${count}`;
    const bytes = perSession(ours);
    parts.push(
      `At ${count.toLocaleString('en-US')} sessions a cached session of the example costs us ${bytes} B after GC, ${bytes <= 1024 ? 'within' : `${bytes - 1024} B over`} the 1 KiB goal` +
        (v.has(peer) ? `; memorystore's costs ${perSession(peer)} B.` : '.'),
    );
  }
  if (v.has('memory.ours.100000', 'memory.ours.1000000')) {
    const change = perSession('memory.ours.1000000') / perSession('memory.ours.100000') - 1;
    parts.push(
      Math.abs(change) <= 0.1
        ? `From 100k to 1M the cost per session moves by ${(change * 100).toFixed(0)}%: flat, so a byte budget maps to a session count linearly.`
        : `From 100k to 1M the cost per session changes by ${(change * 100).toFixed(0)}%, so a byte budget does not map to a session count linearly.`,
    );
  }
  if (v.has('memory.ours.100000', 'memory.ours-records-only.100000')) {
    const withRead = v.get('memory.ours.100000')!;
    const loginOnly = v.get('memory.ours-records-only.100000')!;
    const diff = perSession('memory.ours.100000') - perSession('memory.ours-records-only.100000');
    const tokens = withRead.extra?.tokens?.[0];
    const tokensLoginOnly = loginOnly.extra?.tokens?.[0];
    parts.push(
      `The request after each login adds ${diff} B per session (100k: ${perSession('memory.ours.100000')} B with it, ${perSession('memory.ours-records-only.100000')} B without)` +
        (tokens !== undefined
          ? `; the engine reports ${tokens.toLocaleString('en-US')} verified tokens with it and ${tokensLoginOnly?.toLocaleString('en-US') ?? 'an unknown number'} without, so that is what its token map costs per entry.`
          : '; this engine reports no verified-token count, so what the difference holds is not broken down.'),
    );
  }
  const estimated = [1_000_000, 100_000].map((c) => v.get(`memory.ours.${c}`)).find((m) => m?.extra?.estimatePerSession?.[0] !== undefined);
  if (estimated) {
    const estimate = estimated.extra!.estimatePerSession![0]!;
    const measuredBytes = estimated.values[0]!;
    const share = estimate / measuredBytes;
    parts.push(
      `The engine's own estimate (cacheStats().bytes, which covers the cached records) grew by ${Math.round(estimate)} B per session over the ${estimated.group} fill, ${(share * 100).toFixed(0)}% of the ${Math.round(measuredBytes)} B the heap grew by, token map included` +
        (share > 1 ? ': it overstates, so cache.maxBytes holds fewer sessions than it could.' : share < 0.8 ? ': cache.maxBytes bounds less than what the entries really cost.' : '.'),
    );
  } else if (v.has('memory.ours.100000')) {
    parts.push("This tree's engine gives no estimate of what its cached entries cost (no manager.cacheStats()), so cache.maxBytes cannot be checked against the heap here.");
  }
  if (family.notRun.length > 0) parts.push(`Not measured: ${family.notRun.map((n) => `${n.label} at ${n.group} (${n.reason})`).join('; ')}.`);
  return parts.join(' ');
}

function cleanup(family: FamilyResult): string {
  if (family.notes.length === 0) return '';
  return (
    family.notes.join(' ') +
    ' p99 "during" is over the whole cleanup; compare it with "before" (the same requests just before cleanup started) to see what cleanup costs the requests served meanwhile.'
  );
}

function pool(v: View): string {
  const parts: string[] = [];
  const k = (mode: string, n: number, what: 'ops' | 'cpu') => `pool.${what}.${mode}.${n}`;
  if (v.has(k('inline', 1, 'ops'), k('pool', 1, 'ops'), k('auto', 1, 'ops'))) {
    parts.push(
      `At one round trip per turn, 'pool' runs at ${v.ratio(k('pool', 1, 'ops'), k('inline', 1, 'ops'))} of inline's throughput (a worker round trip per operation costs far more than the microseconds of crypto it moves), and 'auto' at ${v.ratio(k('auto', 1, 'ops'), k('inline', 1, 'ops'))}.`,
    );
  }
  for (const n of [64, 256]) {
    if (!v.has(k('inline', n, 'ops'), k('pool', n, 'ops'), k('inline', n, 'cpu'), k('pool', n, 'cpu'))) continue;
    parts.push(
      `At ${n} per turn, 'pool' runs at ${v.ratio(k('pool', n, 'ops'), k('inline', n, 'ops'))} of inline's throughput, and inline spends ${v.ratio(k('pool', n, 'cpu'), k('inline', n, 'cpu'))} the main-thread time per round trip that 'pool' does (above 1× means the pool frees the event loop).`,
    );
  }
  parts.push(
    'These round trips go through createSealer() and Promise.all as the manager issues them, so per-call promise overhead is included; ' +
      'native-bench measures the batches alone. With one worker thread beside the event loop on 2 cores, the pool can at best move crypto off the loop, not add cores.',
  );
  return parts.join(' ');
}

function galera(v: View): string {
  if (!v.has('galera.update.cluster', 'galera.update.single')) return `Not measured: ${v.reason(v.has('galera.update.cluster') ? 'galera.update.single' : 'galera.update.cluster')}.`;
  return `Updates on the 3-node cluster run at ${v.ratio('galera.update.cluster', 'galera.update.single')} the rate of a single MariaDB (${v.value('galera.update.cluster')} against ${v.value('galera.update.single')}), as scripts/measure-galera.ts measured them.`;
}

export function interpret(family: FamilyResult): string {
  const v = new View(family);
  switch (family.family) {
    case 'codec':
      return codec(v);
    case 'stores':
      return stores(v);
    case 'http':
      return http(v);
    case 'memory':
      return memory(v, family);
    case 'cleanup':
      return cleanup(family);
    case 'pool':
      return pool(v);
    case 'galera':
      return galera(v);
    default:
      return family.notes.join(' ');
  }
}
