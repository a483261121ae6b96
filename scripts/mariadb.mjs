#!/usr/bin/env node
// A throwaway MariaDB for tests, benchmarks and local development: a temp
// datadir, a private port on 127.0.0.1 and a private socket, one database
// and one user, durability settings left at the server defaults
// (innodb_flush_log_at_trx_commit=1), and a clean stop of the one process
// it started.
//
//   node scripts/mariadb.mjs start [DIR]   starts in the background, prints `export MYSQL_URL=…`
//   node scripts/mariadb.mjs stop [DIR]    stops that server (by its recorded PID) and removes DIR
//
// As a module: startMariaDb() (used by scripts/run-tests.mjs and the crash
// and hang tests, which need a server of their own to kill and freeze).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DATABASE = 'rockstar_test';
export const USER = 'rockstar';
export const PASSWORD = 'rockstar';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const DEFAULT_CLI_DIR = join(tmpdir(), 'rockstar-mariadb');

/**
 * Where mariadbd and mariadb-install-db live, or null when MariaDB is not
 * installed. MARIADB_BIN_DIR (e.g. /opt/mariadb/bin) is searched alone when set.
 */
export function findMariaDb() {
  const dirs = process.env.MARIADB_BIN_DIR
    ? [process.env.MARIADB_BIN_DIR]
    : [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  const find = (name) => dirs.map((dir) => join(dir, name)).find(isFile) ?? null;
  const server = find('mariadbd') ?? find('mysqld');
  const installDb = find('mariadb-install-db') ?? find('mysql_install_db');
  return server && installDb ? { server, installDb } : null;
}

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A port the kernel just handed out on 127.0.0.1; mariadbd binds it a moment later (a clash is retried by the caller). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

function initSql() {
  // Runs at every start (idempotent): the test database and a password user reachable over TCP only.
  return [
    `CREATE DATABASE IF NOT EXISTS ${DATABASE};`,
    `CREATE USER IF NOT EXISTS '${USER}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';`,
    `GRANT ALL ON ${DATABASE}.* TO '${USER}'@'127.0.0.1';`,
    // PROCESS: the deadlock tests watch other sessions' transactions in information_schema.INNODB_TRX.
    `GRANT PROCESS ON *.* TO '${USER}'@'127.0.0.1';`,
    '',
  ].join('\n');
}

// As root, mariadbd must be told to stay root; as anyone else it runs as that user and --user is refused.
export const asRoot = () => (process.getuid?.() === 0 ? ['--user=root'] : []);

/** mariadb-install-db into `datadir` (system tables only: the test database and user come from the init file). */
export function installDb(binaries, datadir, tmp, log) {
  const result = spawnSync(
    binaries.installDb,
    ['--no-defaults', ...asRoot(), `--datadir=${datadir}`, `--tmpdir=${tmp}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  writeFileSync(log, `${result.stdout ?? ''}${result.stderr ?? ''}`, { flag: 'a' });
  if (result.status !== 0) {
    throw new Error(`mariadb-install-db failed (exit ${result.status}); see ${log}:\n${tail(log)}`);
  }
}

export function tail(path, lines = 15) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sizeOf(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts mariadbd on `dir` (a fresh temp dir when omitted). A dir whose
 * datadir is already initialized is restarted as it is (the crash test's
 * restart after kill -9); `port` then keeps clients' URL valid.
 * `detached`: the server outlives this process (the CLI).
 * `serverArgs`: more mariadbd options (scripts/galera.mjs passes the wsrep ones).
 * `initFile: false` skips the init file (a Galera node whose datadir was
 * copied from the bootstrap node already has the database and user).
 * `readyTimeoutMs`: how long to wait for `ready for connections` (30 s).
 */
export async function startMariaDb({ dir, port, detached = false, serverArgs = [], initFile = true, readyTimeoutMs = READY_TIMEOUT_MS } = {}) {
  const binaries = findMariaDb();
  if (!binaries) throw new Error('mariadbd is not installed (apt-get install -y mariadb-server)');
  const root = dir ? resolve(dir) : mkdtempSync(join(tmpdir(), 'rockstar-mariadb-'));
  try {
    return await startIn(binaries, root, port, detached, serverArgs, initFile, readyTimeoutMs);
  } catch (error) {
    if (!dir) rmSync(root, { recursive: true, force: true }); // a temp dir of our own: leave nothing behind
    throw error;
  }
}

async function startIn(binaries, root, port, detached, serverArgs, useInitFile, readyTimeoutMs) {
  const datadir = join(root, 'data');
  // A private tmpdir: the server's temp files (bootstrap included) never meet other processes' in /tmp.
  const tmp = join(root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const socket = join(root, 'mariadbd.sock');
  const log = join(root, 'mariadbd.log');
  const initFile = join(root, 'init.sql');
  if (!existsSync(join(datadir, 'mysql'))) installDb(binaries, datadir, tmp, log);
  if (useInitFile) writeFileSync(initFile, initSql());

  // A fixed port (restart) gets one try; a fresh one is retried if another process grabbed it first.
  for (let attempt = 0; ; attempt++) {
    const chosenPort = port ?? (await freePort());
    const logStart = sizeOf(log);
    const logFd = openSync(log, 'a');
    const child = spawn(
      binaries.server,
      [
        '--no-defaults',
        ...asRoot(),
        `--datadir=${datadir}`,
        `--socket=${socket}`,
        `--tmpdir=${tmp}`,
        `--port=${chosenPort}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--pid-file=${join(root, 'mariadbd.pid')}`,
        ...(useInitFile ? [`--init-file=${initFile}`] : []),
        ...serverArgs,
      ],
      { stdio: ['ignore', logFd, logFd], detached },
    );
    closeSync(logFd);
    let exited = null;
    child.once('exit', (code, signal) => (exited = { code, signal }));
    child.once('error', (error) => (exited = { error }));
    const ready = await waitForReady(log, logStart, () => exited, readyTimeoutMs);
    if (ready) {
      if (detached) child.unref();
      writeFileSync(join(root, 'server.json'), JSON.stringify({ pid: child.pid, port: chosenPort }));
      return serverHandle({ root, datadir, socket, log, port: chosenPort, child, detached });
    }
    const portClash = readFileSync(log, 'utf8').slice(logStart).includes('Address already in use');
    if (!exited) child.kill('SIGKILL');
    if (portClash && port === undefined && attempt < 3) continue;
    throw new Error(`mariadbd did not become ready (${JSON.stringify(exited)}); log ${log}:\n${tail(log)}`);
  }
}

async function waitForReady(log, from, exited, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) return false;
    // The init file has run once this line is printed, so the user and database exist.
    if (sizeOf(log) > from && readFileSync(log, 'utf8').slice(from).includes('ready for connections')) return true;
    await sleep(20);
  }
  return false;
}

/** Blocks until every thread of `pid` is in the stopped state ('T' in /proc), or `ms` have passed. */
function waitUntilStopped(pid, ms) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + ms;
  while (Date.now() < until) {
    let tasks;
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // gone, or no /proc: nothing to wait for
    }
    const stopped = tasks.every((task) => {
      try {
        // The state follows the command name in parentheses, which may itself hold spaces.
        const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
      } catch {
        return true; // the thread ended
      }
    });
    if (stopped) return;
    Atomics.wait(pause, 0, 0, 2);
  }
}

function serverHandle({ root, datadir, socket, log, port, child, detached }) {
  const pid = child.pid;
  const exitedPromise = new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });
  return {
    dir: root,
    datadir,
    socket,
    log,
    port,
    pid,
    url: `mysql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    /**
     * Sends a signal to this server only (kill -9, SIGSTOP, SIGCONT in the
     * fault tests). SIGSTOP returns once every thread of the server has
     * stopped (at most a second): the kernel stops them asynchronously, and
     * on a busy machine a thread could otherwise still answer a query sent
     * right after.
     */
    signal(name) {
      process.kill(pid, name);
      if (name === 'SIGSTOP') waitUntilStopped(pid, 1000);
    },
    /** Resolves once the server process has exited (after a stop or a kill). */
    exited: () => exitedPromise,
    /** Clean shutdown (SIGTERM, then SIGKILL past the timeout); `remove` also deletes the datadir. */
    async stop({ remove = true } = {}) {
      if (isRunning(pid)) {
        // A detached (CLI) server was unref'd: waiting for its exit must keep this process alive.
        child.ref();
        try {
          process.kill(pid, 'SIGCONT'); // a frozen server cannot act on SIGTERM
          process.kill(pid, 'SIGTERM');
        } catch {}
        const stopped = await Promise.race([exitedPromise.then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })]);
        if (!stopped && isRunning(pid)) {
          process.kill(pid, 'SIGKILL');
          await exitedPromise;
        }
      }
      if (remove) rmSync(root, { recursive: true, force: true });
    },
    detached,
  };
}

/** Stops a server started by `start` in another process, by the PID it recorded. */
async function stopRecorded(root) {
  const statePath = join(root, 'server.json');
  if (!existsSync(statePath)) throw new Error(`no server recorded in ${root}`);
  const { pid } = JSON.parse(readFileSync(statePath, 'utf8'));
  if (isRunning(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isRunning(pid) && Date.now() < deadline) await sleep(50);
    if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
}

async function cli() {
  const [command, dirArg] = process.argv.slice(2);
  const root = resolve(dirArg ?? DEFAULT_CLI_DIR);
  if (command === 'start') {
    if (existsSync(join(root, 'server.json'))) {
      const { pid } = JSON.parse(readFileSync(join(root, 'server.json'), 'utf8'));
      if (isRunning(pid)) throw new Error(`a server is already running from ${root} (pid ${pid}); stop it first`);
    }
    const server = await startMariaDb({ dir: root, detached: true });
    console.log(`# MariaDB pid ${server.pid}, datadir ${server.datadir}, log ${server.log}`);
    console.log(`export MYSQL_URL='${server.url}'`);
  } else if (command === 'stop') {
    await stopRecorded(root);
    console.log(`# stopped and removed ${root}`);
  } else {
    console.error('usage: node scripts/mariadb.mjs start|stop [DIR]');
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1] ? resolve(process.argv[1]) : ''}`) {
  cli().catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
