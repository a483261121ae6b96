/**
 * Stores: our manager on each backend against the express-session store
 * that does the same job, measured side by side with the same concurrency.
 *
 * - cycle: load a session, change one key, save it (one request that writes)
 * - hit:   load a session that is hot (one request that only reads)
 * - write: save a changed session (the write path alone)
 * - cookie (cache pair only): the hot read from the Cookie header, with
 *   express-session's cookie parse and signature check on the peer's side
 *   (lib/cookie-hit.ts); also ours with the record-version check switched
 *   off, when lib/version-check.ts says how (issue 12's added cost).
 *
 * Ours goes through the whole manager (load/save: id check, store key, the
 * record, seal on save where the store persists, CAS write). For cycle, hit
 * and write the peers are called at their store API, below
 * express-session's own cookie signing, which flatters them slightly.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Session, SessionManager } from '../../src/index.ts';
import { benchContext, loginSessionData } from '../lib/engine.ts';
import { RoundRobin } from '../lib/id-pool.ts';
import { dropTables, serverVersion, startMariaDb } from '../lib/mariadb.ts';
import { interleavedThroughput, type ThroughputContender } from '../lib/measure.ts';
import { cacheManager, databaseManager, filesystemManager, tempDir, type ManagerOutcome } from '../lib/our-stores.ts';
import { EXPRESS_MYSQL_TABLE, expressMysqlSession, expressSessionObject, memorystore, promised, sessionFileStore, type PromisedStore } from '../lib/peer-stores.ts';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';
import { ourCookieHit, peerCookieHit } from '../lib/cookie-hit.ts';
import { versionCheckOff } from '../lib/version-check.ts';

const CONCURRENCY = 16;
const STORE_OPS = ['cycle', 'hit', 'write'] as const;
type Op = (typeof STORE_OPS)[number] | 'cookie';
const OP_LABEL: Record<Op, string> = {
  cycle: 'load + save cycle',
  hit: 'cache hit (load of a hot session)',
  write: 'write (save of a changed session)',
  cookie: 'hot read from the Cookie header (ours: getSessionFromCookie; peer: cookie parse + signature check + get)',
};

/** The op of a contender id `stores.<store>.<op>.<side>`. */
function opOf(id: string): string {
  return id.split('.')[2]!;
}

async function ourContenders(prefix: string, manager: SessionManager, sessions: number, side = 'ours'): Promise<ThroughputContender[]> {
  const ctx = benchContext();
  const make = async (): Promise<Session> => {
    const session = await manager.create(ctx);
    session.data = loginSessionData(`user-${session.id.slice(0, 6)}`);
    await manager.save(ctx, session);
    return session;
  };
  const cycleIds: string[] = [];
  const writeSessions: Session[] = [];
  for (let i = 0; i < sessions; i++) {
    cycleIds.push((await make()).id);
    // The write case keeps its own objects, so the cycle case never makes them stale (which would add CAS merges).
    writeSessions.push(await make());
  }
  const ids = new RoundRobin(cycleIds);
  const writes = new RoundRobin(writeSessions);
  const check = await manager.load(ctx, cycleIds[0]!);
  if (check.data.username === undefined) throw new Error(`${prefix}: correctness check failed: loaded session lost its data`);
  return [
    {
      id: `${prefix}.cycle.${side}`,
      kind: 'async',
      concurrency: CONCURRENCY,
      op: async () => {
        const session = await manager.load(ctx, ids.next());
        session.data.visits = ((session.data.visits as number | undefined) ?? 0) + 1;
        // No ctx: a store-level comparison. The peers' store.set issues no cookie (express-session signs its
        // cookie in its middleware); ours re-issues one given a ctx, which the HTTP section's cart mix measures.
        await manager.save(null, session);
      },
    },
    { id: `${prefix}.hit.${side}`, kind: 'async', concurrency: CONCURRENCY, op: () => manager.load(ctx, ids.next()) },
    {
      id: `${prefix}.write.${side}`,
      kind: 'async',
      concurrency: CONCURRENCY,
      op: async () => {
        const session = writes.next();
        session.data.visits = ((session.data.visits as number | undefined) ?? 0) + 1;
        await manager.save(null, session); // no ctx, as above
      },
    },
  ];
}

async function peerContenders(prefix: string, store: PromisedStore, sessions: number): Promise<ThroughputContender[]> {
  const sids = Array.from({ length: sessions }, () => randomBytes(24).toString('base64url'));
  for (const sid of sids) await store.set(sid, expressSessionObject(`user-${sid.slice(0, 6)}`));
  const checked = await store.get(sids[0]!);
  if (!checked || checked.username === undefined) throw new Error(`${prefix}: correctness check failed: peer store lost the session`);
  const ids = new RoundRobin(sids);
  const writeIds = new RoundRobin(sids);
  const written = expressSessionObject('writer');
  return [
    {
      id: `${prefix}.cycle.peer`,
      kind: 'async',
      concurrency: CONCURRENCY,
      op: async () => {
        const sid = ids.next();
        const session = (await store.get(sid))!;
        session.visits = ((session.visits as number | undefined) ?? 0) + 1;
        await store.set(sid, session);
      },
    },
    { id: `${prefix}.hit.peer`, kind: 'async', concurrency: CONCURRENCY, op: () => store.get(ids.next()) },
    {
      id: `${prefix}.write.peer`,
      kind: 'async',
      concurrency: CONCURRENCY,
      op: () => {
        written.visits = ((written.visits as number | undefined) ?? 0) + 1;
        return store.set(writeIds.next(), written);
      },
    },
  ];
}

interface Pair {
  readonly prefix: string;
  readonly title: string;
  readonly oursLabel: string;
  /** A second configuration of ours, measured alongside (e.g. the filesystem store without fsync, to show what fsync costs). */
  readonly variant?: { readonly side: string; readonly label: string; readonly make: () => Promise<ManagerOutcome> };
  readonly peerLabel: string;
  readonly sessions: number;
  readonly ops: readonly Op[];
  /** Cache pair only: a manager without the record-version check, for the cookie read (issue 12's added cost of the check). */
  readonly versionCheckOff?: { readonly side: string; readonly label: string; readonly make: () => Promise<ManagerOutcome> };
  readonly ours: () => Promise<ManagerOutcome>;
  readonly peer: () => Promise<{ ok: true; store: PromisedStore; cleanup: () => Promise<void> } | { ok: false; reason: string }>;
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('stores');
  const rounds = 3;
  const cookieRounds = 5;
  const timeMs = options.quick ? 200 : 1500;
  const sessions = options.quick ? 100 : 1000;
  const root = new URL('../..', import.meta.url).pathname;
  rec.conditions['concurrency'] = `${CONCURRENCY} operations in flight (async loops in one process)`;
  rec.conditions['sessions'] = `${sessions} pre-created sessions per contender, visited round robin; data = the login example's session (4 keys)`;
  rec.conditions['timing'] = `${rounds} interleaved runs of ${timeMs} ms per contender and operation (${cookieRounds} for the read from the Cookie header), after a warm-up`;
  rec.conditions['peers'] = "express-session stores called through their own get/set callback API, as express-session calls them (so without express-session's cookie signing and middleware, which would only slow them further)";
  rec.conditions['ours'] = 'the whole manager: load() / save(null, session) (no ctx: no cookie is issued, as the peers\' store.set issues none) with crypto.mode inline; filesystem and database have the in-process tier in front (their defaults)';

  const db = await startMariaDb(root);
  const OUR_TABLE = 'bench_rockstar_sessions';
  if (db.ok) {
    await dropTables(db.db.url, [OUR_TABLE, EXPRESS_MYSQL_TABLE]);
    rec.conditions['database'] = `${await serverVersion(db.db.url)} on 127.0.0.1 (${db.db.origin}), server defaults (innodb_flush_log_at_trx_commit=1); express-mysql-session brings its own mysql2`;
  }
  const pairs: Pair[] = [
    {
      prefix: 'stores.cache',
      title: 'cache vs memorystore',
      oursLabel: "ours: storageType 'cache' (byte-bounded LRU)",
      peerLabel: 'memorystore 1.6 (express-session)',
      sessions,
      ops: [...STORE_OPS, 'cookie'],
      ours: cacheManager,
      versionCheckOff: {
        side: 'ours-no-version-check',
        label: "ours: storageType 'cache' with the record-version check switched off (issue 12: what the check costs)",
        make: async () => {
          const off = versionCheckOff();
          if (!off.ok) return { ok: false, reason: off.reason };
          rec.conditions['version check off'] = off.source;
          return cacheManager(off.overrides);
        },
      },
      peer: async () => {
        const store = memorystore();
        return { ok: true, store: promised(store), cleanup: async () => store.stopInterval?.() };
      },
    },
    {
      prefix: 'stores.filesystem',
      title: 'filesystem vs session-file-store',
      oursLabel: "ours: storageType 'filesystem' (defaults: fsync on, LRU in front)",
      peerLabel: 'session-file-store 1.5 (write-file-atomic, fsync on)',
      sessions,
      ops: STORE_OPS,
      ours: () => filesystemManager(tempDir('fs')),
      variant: {
        side: 'ours-nofsync',
        label: "ours: storageType 'filesystem' with filesystem.fsync = false (no flush per write; session-file-store still flushes)",
        make: () => filesystemManager(tempDir('fs-nofsync'), { filesystem: { fsync: false } }),
      },
      peer: async () => {
        const dir = tempDir('sfs');
        const store = sessionFileStore(dir);
        return { ok: true, store: promised(store), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
    {
      prefix: 'stores.database',
      title: 'database vs express-mysql-session (same MariaDB)',
      oursLabel: "ours: storageType 'database' (mysql2 pool, LRU in front)",
      peerLabel: 'express-mysql-session 3.0 (mysql2)',
      sessions,
      ops: STORE_OPS,
      ours: async () => (db.ok ? databaseManager(db.db.url, OUR_TABLE) : { ok: false, reason: db.reason }),
      peer: async () => {
        if (!db.ok) return { ok: false, reason: db.reason };
        const store = expressMysqlSession(db.db.options);
        return { ok: true, store: promised(store), cleanup: async () => void (await store.close?.()) };
      },
    },
  ];

  try {
    for (const pair of pairs) {
      options.progress(`stores: setting up ${pair.title}`);
      const ours = await pair.ours();
      const peer = await pair.peer();
      // A side that cannot run is reported as not run; the other side is still measured, so its figures are on record.
      for (const [side, outcome, label] of [['ours', ours, pair.oursLabel], ['peer', peer, pair.peerLabel]] as const) {
        if (outcome.ok) continue;
        for (const op of pair.ops) rec.notRun.push({ id: `${pair.prefix}.${op}.${side}`, label, group: `${pair.title}: ${OP_LABEL[op]}`, reason: outcome.reason });
      }
      if (!ours.ok && !peer.ok) continue;
      const variant = ours.ok && pair.variant ? await pair.variant.make() : undefined;
      const noCheck = ours.ok && pair.versionCheckOff ? await pair.versionCheckOff.make() : undefined;
      if (noCheck && !noCheck.ok) {
        rec.notRun.push({ id: `${pair.prefix}.cookie.${pair.versionCheckOff!.side}`, label: pair.versionCheckOff!.label, group: `${pair.title}: ${OP_LABEL.cookie}`, reason: noCheck.reason });
      }
      try {
        const withCookie = pair.ops.includes('cookie');
        const contenders = [
          ...(ours.ok ? await ourContenders(pair.prefix, ours.manager, pair.sessions) : []),
          ...(ours.ok && withCookie ? [await ourCookieHit(`${pair.prefix}.cookie.ours`, ours.manager, pair.sessions, CONCURRENCY)] : []),
          ...(noCheck?.ok ? [await ourCookieHit(`${pair.prefix}.cookie.${pair.versionCheckOff!.side}`, noCheck.manager, pair.sessions, CONCURRENCY)] : []),
          ...(variant?.ok ? await ourContenders(pair.prefix, variant.manager, pair.sessions, pair.variant!.side) : []),
          ...(peer.ok ? await peerContenders(pair.prefix, peer.store, pair.sessions) : []),
          ...(peer.ok && withCookie ? [await peerCookieHit(`${pair.prefix}.cookie.peer`, peer.store, pair.sessions, CONCURRENCY)] : []),
        ];
        if (ours.ok) rec.notes.push(`${pair.title}: our store is '${ours.manager.store.name}'.`);
        const labelOf = (id: string): string => {
          const side = id.slice(id.lastIndexOf('.') + 1);
          if (side === 'peer') return pair.peerLabel;
          if (side === 'ours') return pair.oursLabel;
          if (side === pair.versionCheckOff?.side) return pair.versionCheckOff.label;
          return pair.variant!.label;
        };
        // Interleave per operation: ours, peer, ours, peer…
        for (const op of pair.ops) {
          const pairOf = contenders.filter((c) => opOf(c.id) === op);
          if (pairOf.length === 0) continue;
          const results = await interleavedThroughput(pairOf, {
            // The version check's cost is a small difference between two of ours: more runs to pair.
            rounds: op === 'cookie' ? cookieRounds : rounds,
            timeMs,
            warmupMs: timeMs,
            onRun: (id, round, value) => options.progress(`${id} run ${round}/${rounds}: ${Math.round(value).toLocaleString('en-US')} ops/s`),
          });
          for (const [id, values] of results) {
            const ours = !id.endsWith('.peer');
            rec.measurements.push({
              id,
              label: labelOf(id),
              group: `${pair.title}: ${OP_LABEL[op]}`,
              ours,
              unit: 'ops/s',
              values,
              higherIsBetter: true,
            });
          }
        }
      } finally {
        if (noCheck?.ok) await noCheck.cleanup();
        if (variant?.ok) await variant.cleanup();
        if (ours.ok) await ours.cleanup();
        if (peer.ok) await peer.cleanup();
      }
    }
  } finally {
    if (db.ok) await db.db.stop();
  }
  return rec.result();
}
