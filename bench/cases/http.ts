/**
 * HTTP: the same login / profile / cart app on every contender, each in its
 * own server process, loaded by wrk (one thread, 64 connections) from
 * another process. Runs are interleaved: every contender's run k of every
 * mix happens before any contender's run k+1. A run with any failed status
 * or socket error is refused, and that contender's mix is reported as not
 * run, with the reason.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkCart, checkHello, checkProfile, checkSameResponse, loginSessions } from '../lib/http-checks.ts';
import { CONTENDERS, MIXES, measurementId, mixesOf, type Contender, type Mix } from '../lib/http-contenders.ts';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';
import { startServer, type ServerProcess } from '../lib/server-process.ts';
import { waitUntilQuiet } from '../lib/settle.ts';
import { findWrk, Wrk, WRK_SCRIPT } from '../lib/wrk.ts';
import type { WrkResult } from '../lib/wrk-output.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Sessions logged in per app before the load; the read and cart mixes visit their cookies round robin. */
const SESSIONS = 128;
const THREADS = 1;
const CONNECTIONS = 64;
const CART_CLEAR_EVERY = 10;
const COOKIE_GROUP = 'Set-Cookie of a login (characters of the header value)';

interface Running {
  readonly contender: Contender;
  readonly server: ServerProcess;
  readonly origin: string;
  cookies: string[];
  readonly mixes: Set<Mix>;
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('http');
  const notRun = (contender: Contender, mixes: readonly Mix[], reason: string): void => {
    for (const mix of mixes) rec.notRun.push({ id: measurementId(mix, contender.id), label: contender.label, group: MIXES.find((m) => m.id === mix)!.title, reason });
  };
  const wrkFound = findWrk();
  if (wrkFound.path === null) {
    for (const contender of CONTENDERS) notRun(contender, mixesOf(contender), wrkFound.reason);
    return rec.result();
  }
  const rounds = 3;
  const durationSeconds = options.quick ? 1 : 5;
  const warmupSeconds = options.quick ? 1 : 2;
  rec.conditions['load generator'] = `wrk ${wrkFound.version} -t${THREADS} -c${CONNECTIONS} --latency, ${durationSeconds} s per run, with bench/lua/session-mix.lua (requests formatted once, no response hook); the same wrk command for every contender of every mix, so ratios compare like with like`;
  rec.conditions['cores'] = 'server and load generator share the 2 cores: a single-threaded server gets at most one, wrk takes the other; wrk is used rather than autocannon because uWS serves faster than autocannon can ask, which would cap uWS and flatter every ratio against it';
  rec.conditions['runs'] = `${rounds} interleaved runs per contender and mix after a ${warmupSeconds} s warm-up each; each run waits until the previous run's server is idle (at most 3 s); medians and ratios paired run by run`;
  rec.conditions['refused runs'] = 'a run with any response of status ≥ 400 (wrk counts those) or any socket error is refused: its contender and mix are reported as not run, with the reason, and none of its runs are used';
  rec.conditions['app'] =
    'POST /login {username, password} creates a session (user_id, username, roles, login_time) under a fresh id; GET /profile answers {user_id, username, login_time} or 401; POST /cart/items {productId} appends to the session\'s cart (at most 500) and answers {items}; DELETE /cart empties it';
  rec.conditions['sessions'] = `${SESSIONS} logins per app before the load; the read and cart mixes send their cookies round robin`;
  rec.conditions['cart mix'] =
    `every request sends its session's login cookie (not the cookie a write re-issues, as a browser would); every ${CART_CLEAR_EVERY}th request of a session is DELETE /cart, so carts stay under ${CART_CLEAR_EVERY} items. ` +
    "For @fastify/secure-session, whose cart lives in the cookie, that means every write starts from the login cookie's empty cart";
  rec.conditions['ours'] = "examples/app.ts as `npm start` runs it (SESSION_STORE=cache, crypto mode default 'auto'; its /profile also checks isValid and calls refresh, debounced), HTTP_SERVER=uws or node";
  rec.conditions['ceilings'] =
    "uWS answering GET /profile with the same status, headers and JSON bytes as ours on a cache hit, serialized per request from a constant object (bench/servers/uws-json.ts, checked against ours before the load); and uWS hello world (12 bytes of text). Both get ours' exact requests (the same cookies)";
  rec.conditions['req/s'] = 'completed requests per second over the run (all of them 2xx, or the run is refused); latency p50 and p99 are wrk\'s, with 64 requests in flight at all times (closed loop)';
  rec.conditions['reproduce'] = `wrk -t${THREADS} -c${CONNECTIONS} -d${durationSeconds}s --latency -s ${WRK_SCRIPT.slice(ROOT.length)} http://127.0.0.1:PORT -- read|cart|login <file of Cookie headers, one per line> ${CART_CLEAR_EVERY}`;

  const wrk = new Wrk(wrkFound.path);
  const started: Running[] = [];
  try {
    // Servers start in parallel (each is its own process); their checks and the load runs are sequential.
    await Promise.all(
      CONTENDERS.map(async (contender) => {
        const missing = contender.needs.filter((file) => !existsSync(`${ROOT}/${file}`));
        if (missing.length > 0) return notRun(contender, mixesOf(contender), `${missing.join(', ')} not in this tree yet${contender.needsWhy ? `: ${contender.needsWhy}` : ''}`);
        options.progress(`http: starting ${contender.label}`);
        try {
          const server = await startServer(contender.args, contender.env);
          started.push({ contender, server, origin: `http://127.0.0.1:${server.port}`, cookies: [], mixes: new Set(mixesOf(contender)) });
        } catch (error) {
          notRun(contender, mixesOf(contender), `did not start: ${(error as Error).message.split('\n')[0]}`);
        }
      }),
    );
    // Keep the declared order (the chart and tables follow it), whatever order the servers came up in.
    started.sort((a, b) => CONTENDERS.indexOf(a.contender) - CONTENDERS.indexOf(b.contender));
    const running = new Map<string, Running>();
    for (const entry of started) {
      const { contender, origin } = entry;
      try {
        if (contender.ceiling === 'hello') await checkHello(origin);
        if (!contender.ceiling) {
          const { cookies, setCookie } = await loginSessions(origin, SESSIONS);
          await checkProfile(origin, cookies[0]!);
          entry.cookies = cookies;
          const sessionCookie = setCookie.find((c) => c.includes('=')) ?? '';
          const token = sessionCookie.slice(sessionCookie.indexOf('=') + 1, sessionCookie.indexOf(';') === -1 ? undefined : sessionCookie.indexOf(';'));
          rec.measurements.push({
            id: measurementId('cookie', contender.id),
            label: contender.label,
            group: COOKIE_GROUP,
            ours: contender.ours,
            unit: 'bytes',
            values: [setCookie.reduce((n, c) => n + c.length, 0)],
            extra: { token: [token.length], setCookieHeaders: [setCookie.length] },
            higherIsBetter: false,
          });
          try {
            await checkCart(origin, cookies[0]!);
          } catch (error) {
            entry.mixes.delete('cart');
            notRun(contender, ['cart'], `did not pass the pre-run check: ${(error as Error).message.split('\n')[0]}`);
          }
        }
        running.set(contender.id, entry);
      } catch (error) {
        notRun(contender, mixesOf(contender), `did not pass the pre-run check: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    // The ceilings get ours' exact requests; the same-JSON one must answer exactly what ours answers.
    const ours = running.get('ours-uws');
    const ceilingCookies = ours?.cookies ?? [`rockstar_session=${'A'.repeat(119)}`];
    for (const entry of running.values()) if (entry.contender.ceiling) entry.cookies = ceilingCookies;
    const sameJson = running.get('uws-json');
    if (sameJson && ours) {
      try {
        rec.conditions['same response'] = `ours and the same-JSON ceiling both answered: ${await checkSameResponse(sameJson.origin, ours.origin, ours.cookies[0]!)}`;
      } catch (error) {
        running.delete('uws-json');
        notRun(sameJson.contender, ['read'], (error as Error).message.split('\n')[0]!);
      }
    } else if (sameJson) {
      rec.conditions['same response'] = "not checked: ours on uWS did not run, so the same-JSON ceiling's response could not be compared with ours";
    }

    const results = new Map<string, WrkResult[]>();
    const refused = new Set<string>();
    let previous: ServerProcess | undefined;
    const settledRun = async (entry: Running, mix: Mix, seconds: number): Promise<WrkResult> => {
      // A server may keep collecting garbage after its load stops, which would steal CPU from the next contender.
      if (previous?.child.pid) await waitUntilQuiet(previous.child.pid);
      previous = entry.server;
      return wrk.run({ origin: entry.origin, mix, cookies: entry.cookies, threads: THREADS, connections: CONNECTIONS, durationSeconds: seconds, cartClearEvery: CART_CLEAR_EVERY });
    };
    const planned = (mix: Mix): Running[] => [...running.values()].filter((e) => e.mixes.has(mix) && !refused.has(measurementId(mix, e.contender.id)));
    const refuse = (entry: Running, mix: Mix, when: string, error: unknown): void => {
      const key = measurementId(mix, entry.contender.id);
      refused.add(key);
      results.delete(key);
      notRun(entry.contender, [mix], `${when}: ${(error as Error).message.split('\n')[0]}`);
      options.progress(`http ${mix} ${entry.contender.id} ${when}: ${(error as Error).message.split('\n')[0]}`);
    };
    for (const { id: mix } of MIXES) {
      for (const entry of planned(mix)) {
        try {
          await settledRun(entry, mix, warmupSeconds);
        } catch (error) {
          refuse(entry, mix, 'the warm-up run failed', error);
        }
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const { id: mix } of MIXES) {
        for (const entry of planned(mix)) {
          const key = measurementId(mix, entry.contender.id);
          try {
            const result = await settledRun(entry, mix, durationSeconds);
            results.set(key, [...(results.get(key) ?? []), result]);
            options.progress(`http ${mix} ${entry.contender.id} run ${round}/${rounds}: ${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
          } catch (error) {
            refuse(entry, mix, `run ${round} of ${rounds}`, error);
          }
        }
      }
    }
    for (const { id: mix, title } of MIXES) {
      for (const contender of CONTENDERS) {
        const runs = results.get(measurementId(mix, contender.id));
        if (!runs || runs.length < rounds) continue;
        rec.measurements.push({
          id: measurementId(mix, contender.id),
          label: contender.label,
          group: title,
          ours: contender.ours,
          unit: 'req/s',
          values: runs.map((r) => r.requestsPerSecond),
          extra: { p50: runs.map((r) => r.p50), p99: runs.map((r) => r.p99), requests: runs.map((r) => r.requests), non2xx: runs.map((r) => r.non2xx), errors: runs.map(() => 0) },
          higherIsBetter: true,
        });
      }
    }
  } finally {
    wrk.close();
    for (const { server } of started) await server.stop();
  }
  return rec.result();
}
