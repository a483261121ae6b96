/**
 * HTTP: the same two-route app (POST /login creates a session, GET /profile
 * reads it) on every contender, each in its own server process, loaded by
 * autocannon from another process. Runs are interleaved: every contender's
 * run k happens before any contender's run k+1.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AUTOCANNON_VERSION, LoadGenerator, type LoadJob, type LoadResult } from '../lib/load.ts';
import { FamilyRecorder, type FamilyOptions, type FamilyResult } from '../lib/results.ts';
import { startServer, type ServerProcess } from '../lib/server-process.ts';
import { waitUntilQuiet } from '../lib/settle.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOGIN_BODY = JSON.stringify({ username: 'bench', password: 'rockstar' });

interface Contender {
  readonly id: string;
  readonly label: string;
  readonly ours: boolean;
  readonly ceiling?: boolean;
  /** Files that must exist for this contender to run (a missing one is the not-run reason). */
  readonly needs: readonly string[];
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

function server(file: string): string[] {
  return ['--import', 'tsx', fileURLToPath(new URL(`../servers/${file}`, import.meta.url))];
}

function exampleApp(): string[] {
  return ['--import', 'tsx', `${ROOT}/examples/app.ts`];
}

function exampleEnv(server: 'uws' | 'node'): NodeJS.ProcessEnv {
  return { PORT: '0', HOST: '127.0.0.1', HTTP_SERVER: server, SESSION_STORE: 'cache', SESSION_KEY: Buffer.alloc(32, 7).toString('base64') };
}

export const CONTENDERS: readonly Contender[] = [
  { id: 'uws-hello', label: 'uWS hello world (ceiling)', ours: false, ceiling: true, needs: [], args: server('uws-hello.ts') },
  // Ours is the example app itself (`npm start`), on the cache store: the app issue 6's goals are about.
  { id: 'ours-uws', label: 'ours on uWS (example app, cache store)', ours: true, needs: ['examples/app.ts', 'src/http/uws.ts'], args: exampleApp(), env: exampleEnv('uws') },
  { id: 'ours-node', label: 'ours on node:http (example app, cache store)', ours: true, needs: ['examples/app.ts', 'src/http/node.ts'], args: exampleApp(), env: exampleEnv('node') },
  { id: 'fastify-secure-session', label: 'fastify + @fastify/secure-session', ours: false, needs: [], args: server('fastify-secure-session.ts') },
  { id: 'fastify-session', label: 'fastify + @fastify/session (memory)', ours: false, needs: [], args: server('fastify-session.ts') },
  { id: 'express-session', label: 'express + express-session (memory)', ours: false, needs: [], args: server('express-session.ts') },
];

const MIXES = [
  { id: 'read', title: 'read-heavy: GET /profile with a valid cookie' },
  { id: 'login', title: 'login/write: POST /login (new session + Set-Cookie per request)' },
] as const;

async function login(port: number): Promise<{ status: number; cookie: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LOGIN_BODY });
  await response.arrayBuffer();
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.slice(0, c.indexOf(';') === -1 ? c.length : c.indexOf(';')))
    .join('; ');
  return { status: response.status, cookie };
}

/** Proves the app does what the load will ask of it, before anything is timed. Returns the read mix's Cookie header. */
async function checkApp(contender: Contender, port: number): Promise<string> {
  if (contender.ceiling) {
    const text = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    if (!text.startsWith('Hello')) throw new Error(`hello world answered ${JSON.stringify(text.slice(0, 40))}`);
    return '';
  }
  const { status, cookie } = await login(port);
  if (status !== 200 || cookie === '') throw new Error(`POST /login answered ${status} with cookie ${JSON.stringify(cookie)}`);
  const profile = await fetch(`http://127.0.0.1:${port}/profile`, { headers: { cookie } });
  const body = (await profile.json()) as { username?: string };
  if (profile.status !== 200 || body.username !== 'bench') throw new Error(`GET /profile with the login cookie answered ${profile.status} ${JSON.stringify(body)}`);
  const anonymous = await fetch(`http://127.0.0.1:${port}/profile`);
  await anonymous.arrayBuffer();
  if (anonymous.status !== 401) throw new Error(`GET /profile without a cookie answered ${anonymous.status}, expected 401`);
  return cookie;
}

export async function run(options: FamilyOptions): Promise<FamilyResult> {
  const rec = new FamilyRecorder('http');
  const rounds = 3;
  const durationSeconds = options.quick ? 1 : 5;
  const warmupSeconds = options.quick ? 0.3 : 2;
  const connections = 32;
  rec.conditions['load generator'] = `autocannon ${AUTOCANNON_VERSION} (API) in its own long-lived process, ${connections} connections, no pipelining, ${durationSeconds} s per run`;
  rec.conditions['runs'] = `${rounds} interleaved runs per contender and mix after a ${warmupSeconds} s warm-up; server and load generator share the 2 cores; each run waits until the previous run's server is idle (at most 3 s)`;
  rec.conditions['app'] = 'POST /login {username, password} creates a session holding user_id, username, roles, login_time (and regenerates its id); GET /profile answers {user_id, username, login_time} or 401';
  rec.conditions['ours'] = "examples/app.ts as `npm start` runs it (SESSION_STORE=cache, crypto mode default 'auto'; its /profile also checks isValid and calls refresh, debounced), HTTP_SERVER=uws or node";
  rec.conditions['req/s'] = 'responses with a 2xx status per second (errors and non-2xx are counted apart and must be 0)';

  const running = new Map<string, { server: ServerProcess; cookie: string }>();
  const started = new Map<string, { server: ServerProcess; cookie: string }>();
  const load = new LoadGenerator();
  const drive = (job: LoadJob): Promise<LoadResult> => load.run(job);
  try {
    // Servers start in parallel (each is its own process); only their checks and the load runs are sequential.
    await Promise.all(
      CONTENDERS.map(async (contender) => {
        const notRun = (reason: string): void => {
          for (const mix of MIXES) rec.notRun.push({ id: `http.${mix.id}.${contender.id}`, label: contender.label, group: mix.title, reason });
        };
        const missing = contender.needs.filter((file) => !existsSync(`${ROOT}/${file}`));
        if (missing.length > 0) return notRun(`${missing.join(', ')} not in this tree yet (uWS/node:http adapter issue)`);
        options.progress(`http: starting ${contender.label}`);
        let server: ServerProcess | undefined;
        try {
          server = await startServer(contender.args, contender.env);
          const cookie = await checkApp(contender, server.port);
          started.set(contender.id, { server, cookie });
        } catch (error) {
          await server?.stop();
          notRun(`did not pass the pre-run check: ${(error as Error).message.split('\n')[0]}`);
        }
      }),
    );
    // Keep the declared order (the chart and tables follow it), whatever order the servers came up in.
    for (const contender of CONTENDERS) {
      const entry = started.get(contender.id);
      if (entry) running.set(contender.id, entry);
    }

    const jobFor = (contenderId: string, mix: 'read' | 'login', seconds: number): LoadJob => {
      const { server, cookie } = running.get(contenderId)!;
      const base = `http://127.0.0.1:${server.port}`;
      return mix === 'read'
        ? { url: `${base}/profile`, method: 'GET' as const, headers: cookie ? { cookie } : ({} as Record<string, string>), connections, durationSeconds: seconds }
        : { url: `${base}/login`, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: LOGIN_BODY, connections, durationSeconds: seconds };
    };

    // Each run starts only once the previous run's server has gone quiet (a server may keep collecting garbage
    // after its load stops, which would steal CPU from the next contender on a 2-core machine).
    let previous: ServerProcess | undefined;
    const settledRun = async (id: string, job: LoadJob): Promise<LoadResult> => {
      if (previous?.child.pid) await waitUntilQuiet(previous.child.pid);
      previous = running.get(id)!.server;
      return drive(job);
    };
    const results = new Map<string, LoadResult[]>();
    for (const mix of MIXES) for (const id of running.keys()) await settledRun(id, jobFor(id, mix.id, warmupSeconds));
    for (let round = 1; round <= rounds; round++) {
      for (const mix of MIXES) {
        for (const id of running.keys()) {
          const result = await settledRun(id, jobFor(id, mix.id, durationSeconds));
          const key = `http.${mix.id}.${id}`;
          results.set(key, [...(results.get(key) ?? []), result]);
          const flagged = result.non2xx + result.errors > 0 ? ` (${result.non2xx} non-2xx, ${result.errors} errors)` : '';
          options.progress(`http ${mix.id} ${id} run ${round}/${rounds}: ${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s, p99 ${result.p99} ms${flagged}`);
        }
      }
    }
    for (const mix of MIXES) {
      for (const contender of CONTENDERS) {
        const runs = results.get(`http.${mix.id}.${contender.id}`);
        if (!runs) continue;
        rec.measurements.push({
          id: `http.${mix.id}.${contender.id}`,
          label: contender.label,
          group: mix.title,
          ours: contender.ours,
          unit: 'req/s',
          values: runs.map((r) => r.requestsPerSecond),
          extra: { p50: runs.map((r) => r.p50), p99: runs.map((r) => r.p99), non2xx: runs.map((r) => r.non2xx), errors: runs.map((r) => r.errors) },
          higherIsBetter: true,
        });
      }
    }
  } finally {
    await load.close();
    for (const { server } of started.values()) await server.stop();
  }
  return rec.result();
}
