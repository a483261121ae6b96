/**
 * Load test for the example app (examples/app.ts).
 *
 *   npm run load                                   # start the app (uWS, cache store), mixed workload, 10 s
 *   npm run load -- --compare-hello                # also: GET /profile vs a bare uWS hello world, side by side
 *   npm run load -- --url http://127.0.0.1:8080    # target an app that is already running
 *   npm run load -- --duration 20 --connections 100 --users 200 --store filesystem --server node
 *   npm run load -- --cpu-prof .tmp/prof           # write a CPU profile of the app under load
 *   npm run load -- --compare-hello --profile-only --wrk   # the comparison with wrk (apt-get install wrk) instead of autocannon
 *
 * Logs in --users users, then drives autocannon with a mixed workload on
 * every connection: 16 GET /profile, 2 POST /cart/items, 1 DELETE /cart,
 * then a login and a logout of a throwaway user (76% /profile). Bounded: each
 * run stops after --duration seconds or --max-requests requests, whichever
 * comes first, and the whole script gives up after a hard deadline. Prints
 * progress each second and, at the end, req/s, p50/p99 latency and error counts.
 *
 * The load generator runs in this process, the servers in child processes:
 * on a small machine they compete for the same cores, so read ratios, not
 * absolute numbers. The table shows how much CPU each side used (100% = one
 * core busy), which tells whether the server or the load generator was the limit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- autocannon (untyped package)

interface Histogram {
  average: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
  total?: number;
}

interface AutocannonResult {
  requests: Histogram & { total: number; sent: number };
  latency: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
}

interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'tick', listener: (counter: { counter: number; bytes: number }) => void): void;
  stop(): void;
}

/** What one run sends: a sequence of requests per connection, or one path with per-connection headers. */
interface Workload {
  requests?: AutocannonRequest[];
  path?: string;
  setupClient?: (client: { setHeaders(headers: Record<string, string>): void }) => void;
}

type Autocannon = (options: Record<string, unknown>, callback?: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;
const autocannon = require('autocannon') as Autocannon;

// ---------------------------------------------------------------- options

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    server: { type: 'string', default: 'uws' },
    store: { type: 'string', default: 'cache' },
    users: { type: 'string', default: '50' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    'max-requests': { type: 'string', default: '2000000' },
    'compare-hello': { type: 'boolean', default: false },
    'profile-only': { type: 'boolean', default: false },
    wrk: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(
    'usage: npm run load -- [--url URL] [--server uws|node] [--store cache|filesystem|database] [--users N] [--connections N]\n' +
      '                       [--duration SECONDS] [--max-requests N] [--compare-hello] [--profile-only] [--wrk] [--rounds N] [--cpu-prof DIR]',
  );
  process.exit(0);
}

function bounded(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}; received ${value}`);
    process.exit(2);
  }
  return n;
}

const USERS = bounded('users', args.users, 1, 10_000);
const CONNECTIONS = bounded('connections', args.connections, 1, 1000);
const DURATION = bounded('duration', args.duration, 1, 120);
const MAX_REQUESTS = bounded('max-requests', args['max-requests'], 1, 50_000_000);
const ROUNDS = bounded('rounds', args.rounds, 1, 10);
if (args.server !== 'uws' && args.server !== 'node') {
  console.error(`--server must be uws or node; received ${args.server}`);
  process.exit(2);
}
/** Everything must be over by then, whatever hangs. */
const HARD_DEADLINE_MS = (DURATION * ROUNDS * 3 + 90) * 1000;

// ---------------------------------------------------------------- child servers

const children = new Set<ChildProcess>();

/** Starts a server child and resolves with the URL it prints ("… listening on http://…"). */
function startChild(name: string, nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, nodeArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        child.stdout?.off('data', onData);
        resolvePromise({ url: match[1], child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.slice(-2000)}`));
    });
  });
}

/** Stops one child we started, by its handle (SIGTERM: the app closes its manager and, with --cpu-prof, writes the profile). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      children.delete(child);
      done();
    });
    child.kill('SIGTERM');
  });
}

const HELLO_SOURCE = `
const uWS = require('uWebSockets.js');
uWS.App().any('/*', (res) => { res.cork(() => res.end('Hello World!')); })
  .listen('127.0.0.1', 0, (s) => {
    if (!s) { console.error('hello world could not listen'); process.exit(1); }
    console.log('uWS hello world listening on http://127.0.0.1:' + uWS.us_socket_local_port(s));
  });
process.once('SIGTERM', () => process.exit(0));
`;

// ---------------------------------------------------------------- HTTP helpers

function cookieFrom(setCookie: string | string[] | undefined | null): string | undefined {
  const values = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  for (const value of values) {
    const pair = value.split(';')[0] ?? '';
    if (pair.startsWith('rockstar_session=') && pair.length > 'rockstar_session='.length) return pair;
  }
  return undefined;
}

async function loginUsers(base: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  const BATCH = 25;
  for (let start = 0; start < count; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - start) }, async (_, i) => {
      const response = await fetch(`${base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `load-user-${start + i}`, password: 'rockstar' }),
      });
      const cookie = cookieFrom(response.headers.getSetCookie());
      if (response.status !== 200 || !cookie) throw new Error(`login of load-user-${start + i} failed: ${response.status} ${await response.text()}`);
      return cookie;
    });
    cookies.push(...(await Promise.all(batch)));
  }
  return cookies;
}

// ---------------------------------------------------------------- workloads

/** Each connection loops over this sequence (autocannon resets `context` at the start of each loop). */
function mixedWorkload(cookies: readonly string[]): Workload {
  let nextUser = 0;
  const withUserCookie = (request: AutocannonRequest, context: Record<string, unknown>): AutocannonRequest => {
    if (context.cookie === undefined) context.cookie = cookies[nextUser++ % cookies.length];
    return { ...request, headers: { ...request.headers, cookie: context.cookie as string } };
  };
  const profile: AutocannonRequest = { method: 'GET', path: '/profile', setupRequest: withUserCookie };
  let throwaway = 0;
  const requests: AutocannonRequest[] = [
    ...Array.from({ length: 16 }, () => profile),
    {
      method: 'POST',
      path: '/cart/items',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'sku-1' }),
      setupRequest: withUserCookie,
    },
    {
      method: 'POST',
      path: '/cart/items',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'productId=sku-2',
      setupRequest: withUserCookie,
    },
    // Keeps carts bounded however long the run.
    { method: 'DELETE', path: '/cart', setupRequest: withUserCookie },
    {
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ username: `visitor-${throwaway++ % 1000}`, password: 'rockstar' }) }),
      onResponse: (_status, _body, context, headers) => {
        context.visitorCookie = cookieFrom(headers['set-cookie']);
      },
    },
    {
      method: 'POST',
      path: '/logout',
      setupRequest: (request, context) => ({ ...request, headers: { cookie: (context.visitorCookie as string | undefined) ?? '' } }),
    },
  ];
  return { requests };
}

/**
 * GET /profile only. Each connection gets one user's cookie once, in
 * setupClient, so autocannon sends a pre-built request just as it does for
 * the hello world: the comparison then measures the servers, not per-request
 * work in the load generator.
 */
function profileWorkload(cookies: readonly string[]): Workload {
  let nextUser = 0;
  return {
    path: '/profile',
    setupClient: (client) => client.setHeaders({ cookie: cookies[nextUser++ % cookies.length] as string }),
  };
}

// ---------------------------------------------------------------- running and reporting

interface Summary {
  readonly title: string;
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly total: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statuses: string;
  /** Cores' worth of CPU the server process used during the run (1 = one core busy), when known. */
  readonly serverCpu: number | null;
  readonly loadGeneratorCpu: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc; null where there is no /proc. */
function cpuSecondsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function percent(value: number | null): string {
  return value === null ? '-' : `${Math.round(value * 100)}%`;
}

async function run(title: string, url: string, workload: Workload, serverPid?: number): Promise<Summary> {
  process.stderr.write(`\n${title}: ${CONNECTIONS} connections, up to ${DURATION} s or ${MAX_REQUESTS} requests\n`);
  const instance = autocannon({
    url: workload.path ? `${url}${workload.path}` : url,
    connections: CONNECTIONS,
    duration: DURATION,
    maxOverallRequests: Math.max(MAX_REQUESTS, CONNECTIONS),
    timeout: 10,
    ...(workload.requests ? { requests: workload.requests } : {}),
    ...(workload.setupClient ? { setupClient: workload.setupClient } : {}),
  });
  let second = 0;
  let sent = 0;
  instance.on('tick', ({ counter }) => {
    if (counter === 0 && second >= DURATION) return; // the tick after the end
    second++;
    sent += counter;
    process.stderr.write(`  ${String(second).padStart(3)} s  ${String(counter).padStart(7)} req/s  ${String(sent).padStart(9)} total\n`);
  });
  const serverCpuBefore = cpuSecondsOf(serverPid);
  const ownCpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await instance;
  const elapsed = (performance.now() - startedAt) / 1000;
  const serverCpuAfter = cpuSecondsOf(serverPid);
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([code, { count }]) => `${code}:${count}`)
    .join(' ');
  return {
    title,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statuses,
    serverCpu: serverCpuBefore === null || serverCpuAfter === null ? null : (serverCpuAfter - serverCpuBefore) / elapsed,
    loadGeneratorCpu: (ownCpu.user + ownCpu.system) / 1e6 / elapsed,
  };
}

/**
 * The same single-path run with wrk (one thread, C, lighter than autocannon,
 * so more of the machine is left to the server). Every connection sends the
 * same cookie: wrk has no per-connection headers without a Lua script.
 */
async function runWrk(title: string, url: string, cookie: string | undefined, serverPid?: number): Promise<Summary> {
  process.stderr.write(`\n${title} (wrk): ${CONNECTIONS} connections, ${DURATION} s\n`);
  const wrkArgs = ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', '--timeout', '10s'];
  if (cookie) wrkArgs.push('-H', `Cookie: ${cookie}`);
  wrkArgs.push(url);
  const serverCpuBefore = cpuSecondsOf(serverPid);
  const startedAt = performance.now();
  const child = spawn('wrk', wrkArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const wrkCpuBefore = () => cpuSecondsOf(child.pid);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let second = 0;
  let wrkCpu: number | null = null;
  const progress = setInterval(() => {
    second++;
    wrkCpu = wrkCpuBefore() ?? wrkCpu;
    if (second <= DURATION) process.stderr.write(`  ${String(second).padStart(3)} s  running\n`);
  }, 1000);
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (exitCode) => done(exitCode));
  }).finally(() => {
    clearInterval(progress);
    children.delete(child);
  });
  const elapsed = (performance.now() - startedAt) / 1000;
  const serverCpuAfter = cpuSecondsOf(serverPid);
  if (code !== 0) throw new Error(`wrk failed (${code}): ${output}`);
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 0);
  const latencyMs = (label: string): number => {
    const match = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(output);
    if (!match) return NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const total = number(/(\d+) requests in/);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = socketErrors ? Number(socketErrors[1]) + Number(socketErrors[2]) + Number(socketErrors[3]) : 0;
  const timeouts = socketErrors ? Number(socketErrors[4]) : 0;
  const non2xx = number(/Non-2xx or 3xx responses: (\d+)/);
  return {
    title: `${title} [wrk]`,
    reqPerSec: number(/Requests\/sec:\s+([\d.]+)/),
    p50: latencyMs('50'),
    p99: latencyMs('99'),
    total,
    errors,
    timeouts,
    non2xx,
    statuses: non2xx ? `non-2xx:${non2xx}` : `2xx:${total}`,
    serverCpu: serverCpuBefore === null || serverCpuAfter === null ? null : (serverCpuAfter - serverCpuBefore) / elapsed,
    loadGeneratorCpu: (wrkCpu ?? 0) / elapsed,
  };
}

function printTable(summaries: readonly Summary[]): void {
  const rows = summaries.map((s) => [
    s.title,
    s.reqPerSec.toFixed(0),
    `${+s.p50.toFixed(2)} ms`,
    `${+s.p99.toFixed(2)} ms`,
    String(s.total),
    String(s.errors),
    String(s.timeouts),
    String(s.non2xx),
    percent(s.serverCpu),
    s.serverCpu === null || s.reqPerSec === 0 ? '-' : `${((s.serverCpu / s.reqPerSec) * 1e6).toFixed(1)} µs`,
    percent(s.loadGeneratorCpu),
    s.statuses,
  ]);
  const header = ['run', 'req/s', 'p50', 'p99', 'requests', 'errors', 'timeouts', 'non-2xx', 'server CPU', 'server CPU/req', 'load-gen CPU', 'status codes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`load test still running after ${HARD_DEADLINE_MS / 1000} s: giving up`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, HARD_DEADLINE_MS);
  deadline.unref();

  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; Node ${process.version}; ` +
      'autocannon in this process, servers in child processes (they share the cores)',
  );

  let appUrl = args.url;
  let app: ChildProcess | undefined;
  let sessionDir: string | undefined;
  if (!appUrl) {
    const nodeArgs = ['--import', 'tsx'];
    if (args['cpu-prof']) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${resolve(args['cpu-prof'])}`);
    nodeArgs.push(resolve('examples/app.ts'));
    const env: NodeJS.ProcessEnv = {
      PORT: '0',
      HOST: '127.0.0.1',
      HTTP_SERVER: args.server,
      SESSION_STORE: args.store,
      SESSION_KEY: randomBytes(32).toString('base64'),
    };
    if (args.store === 'filesystem') env.SESSION_DIR = sessionDir = mkdtempSync(join(tmpdir(), 'rockstar-load-'));
    const started = await startChild('example app', nodeArgs, env);
    appUrl = started.url;
    app = started.child;
    console.log(`example app (${args.server}, ${args.store} store) at ${appUrl}`);
  } else {
    console.log(`target: ${appUrl}`);
  }
  appUrl = appUrl.replace(/\/$/, '');

  try {
    const cookies = await loginUsers(appUrl, USERS);
    console.log(`logged in ${cookies.length} users`);
    const summaries: Summary[] = [];

    if (!args['profile-only']) summaries.push(await run('mixed workload', appUrl, mixedWorkload(cookies), app?.pid));

    if (args['compare-hello'] || args['profile-only']) {
      const hello = args['compare-hello'] ? await startChild('uWS hello world', ['-e', HELLO_SOURCE], {}) : undefined;
      try {
        const helloRates: number[] = [];
        const profileRates: number[] = [];
        // Alternate the two so that drift in the machine's state hits both alike.
        for (let round = 1; round <= ROUNDS; round++) {
          const suffix = ROUNDS > 1 ? ` #${round}` : '';
          if (hello) {
            const h = args.wrk
              ? await runWrk(`uWS hello world${suffix}`, hello.url, undefined, hello.child.pid)
              : await run(`uWS hello world${suffix}`, hello.url, {}, hello.child.pid);
            summaries.push(h);
            helloRates.push(h.reqPerSec);
          }
          const p = args.wrk
            ? await runWrk(`GET /profile (valid cookie)${suffix}`, `${appUrl}/profile`, cookies[0], app?.pid)
            : await run(`GET /profile (valid cookie)${suffix}`, appUrl, profileWorkload(cookies), app?.pid);
          summaries.push(p);
          profileRates.push(p.reqPerSec);
        }
        printTable(summaries);
        if (hello) {
          const perRequest = (list: Summary[]): number[] =>
            list.filter((s) => s.serverCpu !== null && s.reqPerSec > 0).map((s) => (s.serverCpu as number) / s.reqPerSec);
          const helloCost = perRequest(summaries.filter((s) => s.title.startsWith('uWS hello')));
          const profileCost = perRequest(summaries.filter((s) => s.title.startsWith('GET /profile')));
          if (helloCost.length > 0 && profileCost.length > 0) {
            // CPU per request is what the server spends, whoever else is on the machine: steadier than req/s on a shared box.
            console.log(
              `\nserver CPU per request (median): GET /profile ${(median(profileCost) * 1e6).toFixed(1)} µs, hello world ${(median(helloCost) * 1e6).toFixed(1)} µs: ` +
                `a server-bound /profile would reach ${((median(helloCost) / median(profileCost)) * 100).toFixed(1)}% of hello world's rate`,
            );
          }
          const ratio = median(profileRates) / median(helloRates);
          console.log(
            `\nGET /profile reaches ${(ratio * 100).toFixed(1)}% of the uWS hello world's throughput ` +
              `(median of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}: ${median(profileRates).toFixed(0)} vs ${median(helloRates).toFixed(0)} req/s; goal >= 85%)`,
          );
        }
      } finally {
        if (hello) await stopChild(hello.child);
      }
    } else {
      printTable(summaries);
    }
    const failed = summaries.some((s) => s.errors > 0 || s.non2xx > 0);
    if (failed) {
      console.log('\nsome requests failed (errors or non-2xx answers): see the table');
      process.exitCode = 1;
    }
  } finally {
    if (app) await stopChild(app);
    if (sessionDir) rmSync(sessionDir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

await main();
