/**
 * One paragraph per section saying what the numbers mean, written from this
 * run's figures (so the words never contradict the table beside them),
 * including where we are not ahead.
 */
import type { FamilyResult, Measurement } from './lib/results.ts';
import { formatRatio, ratioOf } from './lib/ratios.ts';
import { formatWithUnit } from './lib/format.ts';
import { median } from './lib/stats.ts';
import { ENTRY_OVERHEAD_BYTES } from '../src/stores/lru.ts';

class View {
  readonly #byId = new Map<string, Measurement>();
  readonly #notRun = new Map<string, string>();

  constructor(family: FamilyResult) {
    for (const m of family.measurements) this.#byId.set(m.id, m);
    for (const n of family.notRun) this.#notRun.set(n.id, n.reason);
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
      parts.push(
        'memorystore keeps plaintext JSON strings in the process and does no cryptography at all; every one of our loads opens an AEAD record and hashes the id into its store key, ' +
          'and every save seals one. That is the price of a cache whose contents are safe to share with a backing store and never hold a usable token, and we do not win this row.',
      );
    }
  }
  return parts.join(' ');
}

function http(v: View): string {
  const parts: string[] = [];
  const read = (id: string) => `http.read.${id}`;
  if (v.has(read('ours-uws'), read('uws-hello'))) {
    parts.push(
      `Ours on uWS serves GET /profile at ${v.value(read('ours-uws'))}, ${v.ratio(read('ours-uws'), read('uws-hello'))} of the bare uWS hello world. ` +
        'Server and autocannon share the two cores, so the ceiling is what one server core serves to one autocannon process, not bare uWS\'s limit on a bigger machine; ratios to it compare contenders under that same limit.',
    );
    for (const [id, name] of [
      ['fastify-secure-session', 'fastify + @fastify/secure-session'],
      ['fastify-session', 'fastify + @fastify/session'],
      ['express-session', 'express + express-session'],
    ] as const) {
      if (v.has(read(id))) parts.push(`Against ${name} it is ${v.ratio(read('ours-uws'), read(id))}.`);
    }
  } else {
    parts.push(`Ours on uWS did not run: ${v.reason(read('ours-uws'))}.`);
  }
  if (v.has(read('ours-node'), read('fastify-secure-session'))) {
    parts.push(`On node:http, ours is ${v.compare(read('ours-node'), read('fastify-secure-session'), 'fastify + @fastify/secure-session')} (both run on node's own HTTP stack).`);
  } else if (!v.has(read('ours-node'))) {
    parts.push(`Ours on node:http did not run: ${v.reason(read('ours-node'))}.`);
  }
  const login = (id: string) => `http.login.${id}`;
  if (v.has(login('ours-uws'), login('fastify-secure-session'))) {
    parts.push(
      `On the login mix every request creates and stores a session and sets a cookie; ours on uWS is ${v.compare(login('ours-uws'), login('fastify-secure-session'), 'fastify + @fastify/secure-session (which stores nothing server-side)')}.`,
    );
  }
  if (v.has(read('express-session'), read('fastify-secure-session'))) {
    parts.push(`Among the peers, @fastify/secure-session is ${v.ratio(read('fastify-secure-session'), read('express-session'))} express + express-session on reads.`);
  }
  return parts.join(' ');
}

function memory(v: View, family: FamilyResult): string {
  const parts: string[] = [];
  const perSession = (id: string) => Math.round(family.measurements.find((m) => m.id === id)?.values[0] ?? Number.NaN);
  const direct = family.measurements.filter((m) => m.id.startsWith('memory.ours-direct.'));
  if (v.has('memory.ours.100000', 'memory.memorystore.100000')) {
    const ours = perSession('memory.ours.100000');
    const peer = perSession('memory.memorystore.100000');
    parts.push(
      ours <= peer
        ? `At 100k sessions a cached session costs us ${ours} B against memorystore's ${peer} B.`
        : `At 100k sessions we are not ahead: a cached session costs us ${ours} B against memorystore's ${peer} B (${(ours / peer).toFixed(2)}×). ` +
            'Our entry holds a sealed record (key id, nonce and tag add 45 B to the msgpack), its 64-character store key and the LRU\'s bookkeeping; memorystore holds one plaintext JSON string per session.',
    );
  }
  if (direct.length >= 2) {
    const [first, last] = [direct[0]!, direct[direct.length - 1]!];
    const change = last.values[0]! / first.values[0]! - 1;
    parts.push(
      Math.abs(change) <= 0.1
        ? `From ${first.group} to ${last.group} the cost per session moves by ${(change * 100).toFixed(0)}% (${Math.round(first.values[0]!)} → ${Math.round(last.values[0]!)} B): flat, so a byte budget maps to a session count linearly.`
        : `From ${first.group} to ${last.group} the cost per session changes by ${(change * 100).toFixed(0)}%, so a byte budget does not map to a session count linearly.`,
    );
    const sealed = last.extra?.sealed?.[0] ?? 0;
    if (sealed > 0) {
      const overhead = Math.round(last.values[0]! - sealed);
      parts.push(
        `Of that, ${sealed} B is the sealed record; the rest, about ${overhead} B, is what each entry costs besides its bytes. ` +
          `The cache budgets each entry as sealed bytes + ENTRY_OVERHEAD_BYTES (${ENTRY_OVERHEAD_BYTES} B, src/stores/lru.ts)` +
          (Math.abs(overhead - ENTRY_OVERHEAD_BYTES) / overhead > 0.15
            ? `, so cache.maxBytes ${overhead > ENTRY_OVERHEAD_BYTES ? 'under' : 'over'}states real memory by about ${Math.round((Math.abs(overhead - ENTRY_OVERHEAD_BYTES) / (sealed + ENTRY_OVERHEAD_BYTES)) * 100)}% per entry.`
            : ', which matches what is measured here.'),
      );
    }
  }
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
    default:
      return family.notes.join(' ');
  }
}
