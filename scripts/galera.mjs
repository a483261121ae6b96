#!/usr/bin/env node
// A throwaway multi-primary MariaDB Galera cluster for tests and
// measurements: N nodes (3 by default) of scripts/mariadb.mjs's throwaway
// server, each on private ports of 127.0.0.1 (SQL, group communication,
// IST and SST), in one temp directory, with a cluster name of its own so
// that two engineers' clusters can never merge.
//
//   node scripts/galera.mjs start [DIR]   starts in the background, prints `export GALERA_URLS='url1 url2 url3'`
//   node scripts/galera.mjs stop [DIR]    stops those servers (by their recorded PIDs) and removes DIR
//
// As a module: startGaleraCluster() (scripts/run-tests.mjs, the galera-*
// tests, scripts/measure-galera.ts).
//
// How (about 8 s on this project's 2-core machine):
// 1. node 1 is initialized and bootstrapped alone (--wsrep-new-cluster),
//    its init file creating the database and the user; then stopped cleanly,
//    which saves its position (grastate.dat, safe_to_bootstrap: 1);
// 2. its datadir is copied to nodes 2..N, so they join at the same position
//    with no state transfer, and made readable by all (an rsync SST, which a
//    node restarted after kill -9 may need, reads the donor's files as nobody);
// 3. node 1 bootstraps again from its saved state, then the others join it.
// A node killed with -9 and restarted joins as usual: by IST from a peer's
// gcache when its position was recovered, otherwise by an rsync SST.
//
// GALERA_KEEP_FAILED=1 keeps the directory (and its logs) of a start that
// failed, and does not try again, for debugging.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DATABASE, PASSWORD, USER, asRoot, findMariaDb, freePort, isRunning, startMariaDb } from './mariadb.mjs';

export const GALERA_PROVIDER = process.env.GALERA_PROVIDER ?? '/usr/lib/galera/libgalera_smm.so';
const SYNC_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const DEFAULT_CLI_DIR = join(tmpdir(), 'rockstar-galera');

/** True when mariadbd and the Galera provider are both installed. */
export function haveGalera() {
  return findMariaDb() !== null && existsSync(GALERA_PROVIDER);
}

/**
 * Provider options beyond the addresses. gcache: small, it is a throwaway.
 * evs.*: a node that stops answering is declared dead after 3 s instead of
 * Galera's 5 s default; until then the survivors cannot commit (the group
 * waits for every member of the current view), so this bounds the pause
 * that a kill -9 costs the other nodes.
 */
const PROVIDER_OPTIONS = ['gcache.size=32M', 'evs.suspect_timeout=PT3S', 'evs.inactive_timeout=PT5S', 'evs.keepalive_period=PT0.5S', 'evs.inactive_check_period=PT0.5S'];

async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function wsrepArgs(cluster, index, { bootstrap = false, startPosition, sameData = false } = {}) {
  const node = cluster.nodes[index];
  const members = cluster.nodes.map((n) => `127.0.0.1:${n.gmcastPort}`).join(',');
  return [
    '--wsrep-on=ON',
    `--wsrep-provider=${GALERA_PROVIDER}`,
    `--wsrep-cluster-name=${cluster.name}`,
    `--wsrep-cluster-address=gcomm://${members}`,
    `--wsrep-node-name=node${index + 1}`,
    '--wsrep-node-address=127.0.0.1',
    `--wsrep-node-incoming-address=127.0.0.1:${node.port}`,
    `--wsrep-sst-receive-address=127.0.0.1:${node.sstPort}`,
    `--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${node.gmcastPort};ist.recv_addr=127.0.0.1:${node.istPort};${PROVIDER_OPTIONS.join(';')}`,
    '--binlog-format=ROW',
    '--innodb-autoinc-lock-mode=2',
    // Smaller than the 96 MiB default: the datadir is copied to every node.
    '--innodb-log-file-size=16M',
    ...(bootstrap ? ['--wsrep-new-cluster'] : []),
    // A copy of the donor's datadir needs no state transfer ('skip'); a restart does (rsync).
    `--wsrep-sst-method=${sameData ? 'skip' : 'rsync'}`,
    ...(startPosition ? [`--wsrep-start-position=${startPosition}`] : []),
  ];
}

/** Everything but the datadir's contents is per node: socket, log, pid and tmp live in the node's own dir. */
function nodeDir(cluster, index) {
  return join(cluster.dir, `node${index + 1}`);
}

/**
 * The position a node killed with -9 had reached (grastate.dat says -1
 * then): mariadbd --wsrep-recover reads it from InnoDB, as the systemd unit's
 * galera_recovery does, so the restart can ask for an IST instead of a full SST.
 */
function recoverPosition(cluster, index) {
  const binaries = findMariaDb();
  const dir = nodeDir(cluster, index);
  const result = spawnSync(
    binaries.server,
    [
      '--no-defaults',
      ...asRoot(),
      `--datadir=${join(dir, 'data')}`,
      `--tmpdir=${join(dir, 'tmp')}`,
      `--socket=${join(dir, 'recover.sock')}`,
      '--skip-networking',
      `--log-error=${join(dir, 'recover.log')}`,
      ...wsrepArgs(cluster, index),
      '--wsrep-recover',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  let log = '';
  try {
    log = readFileSync(join(dir, 'recover.log'), 'utf8');
  } catch {}
  const found = /Recovered position: ([0-9a-f-]{36}:-?\d+)/.exec(`${log}${result.stderr ?? ''}`);
  return found && !found[1].endsWith(':-1') ? found[1] : undefined;
}

/**
 * The joiner's side of every state transfer (even an IST, which still runs
 * the rsync script to hand over a marker file) is an rsync daemon, which
 * root starts as `nobody`: it must be able to reach and write the datadir.
 */
function openToStateTransfer(path) {
  const stat = statSync(path);
  chmodSync(path, stat.mode | (stat.isDirectory() ? 0o777 : 0o666));
  if (stat.isDirectory()) for (const entry of readdirSync(path)) openToStateTransfer(join(path, entry));
}

/** Polls one node until Galera says it is Synced in a cluster of `size`. */
async function waitSynced(url, size, timeoutMs = SYNC_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    let connection;
    try {
      connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
      const [rows] = await connection.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state', 'wsrep_cluster_size', 'wsrep_ready')");
      const status = Object.fromEntries(rows.map((row) => [row.Variable_name, row.Value]));
      last = JSON.stringify(status);
      if (status.wsrep_local_state === '4' && status.wsrep_ready === 'ON' && Number(status.wsrep_cluster_size) === size) return;
    } catch (error) {
      last = error.message;
    } finally {
      await connection?.end().catch(() => {});
    }
    await sleep(100);
  }
  throw new Error(`Galera node ${url.replace(/:[^:@/]*@/, ':***@')} did not sync within ${timeoutMs} ms (last: ${last})`);
}

async function startNode(cluster, index, options) {
  const node = cluster.nodes[index];
  const server = await startMariaDb({
    dir: nodeDir(cluster, index),
    port: node.port,
    serverArgs: wsrepArgs(cluster, index, options),
    initFile: options.initFile ?? false,
    detached: cluster.detached,
    readyTimeoutMs: SYNC_TIMEOUT_MS,
  });
  node.server = server;
  return server;
}

function nodeHandle(cluster, index) {
  const node = cluster.nodes[index];
  return {
    index,
    get port() {
      return node.port;
    },
    get pid() {
      return node.server?.pid;
    },
    get log() {
      return join(nodeDir(cluster, index), 'mariadbd.log');
    },
    url: `mysql://${USER}:${PASSWORD}@127.0.0.1:${node.port}/${DATABASE}`,
    /** A signal to this node's process only (kill -9, SIGSTOP, SIGCONT in the fault tests). */
    signal(name) {
      node.server.signal(name);
    },
    /** kill -9, resolving once the process is gone. */
    async kill() {
      node.server.signal('SIGKILL');
      await node.server.exited();
    },
    /** Starts this node again (after kill or stop) and waits until it is Synced with the others. */
    async restart() {
      const startPosition = recoverPosition(cluster, index);
      openToStateTransfer(join(nodeDir(cluster, index), 'data'));
      await startNode(cluster, index, { startPosition });
      await waitSynced(this.url, cluster.nodes.length);
    },
    async stop() {
      await node.server?.stop({ remove: false });
    },
  };
}

/**
 * Starts an N-node Galera cluster in `dir` (a fresh temp dir when omitted).
 * Resolves to { dir, name, nodes: [{ url, port, pid, signal, kill, restart, stop }], urls, stop() }.
 */
export async function startGaleraCluster({ size = 3, dir, detached = false } = {}) {
  if (!haveGalera()) throw new Error(`Galera needs mariadbd and ${GALERA_PROVIDER} (apt-get install -y mariadb-server galera-4)`);
  // A port another process took between our probe and mariadbd's bind fails the start: try once more with new ports.
  for (let attempt = 0; ; attempt++) {
    const root = dir ? resolve(dir) : mkdtempSync(join(tmpdir(), 'rockstar-galera-'));
    try {
      return await startIn(root, size, detached);
    } catch (error) {
      if (process.env.GALERA_KEEP_FAILED !== '1') rmSync(root, { recursive: true, force: true });
      if (attempt >= 1 || process.env.GALERA_KEEP_FAILED === '1' || !/Address already in use|did not become ready|did not sync/.test(String(error?.message))) throw error;
    }
  }
}

async function startIn(root, size, detached) {
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755); // mkdtemp's 0700 would keep the state transfer's rsync daemon (nobody) out

  const ports = await distinctFreePorts(4 * size);
  const cluster = {
    dir: root,
    detached,
    name: `rockstar-${randomBytes(6).toString('hex')}`,
    nodes: Array.from({ length: size }, (_, i) => ({
      port: ports[4 * i],
      gmcastPort: ports[4 * i + 1],
      istPort: ports[4 * i + 2],
      sstPort: ports[4 * i + 3],
      server: undefined,
    })),
  };
  const handles = cluster.nodes.map((_, i) => nodeHandle(cluster, i));
  const stopAll = async () => {
    await Promise.all(handles.map((handle) => handle.stop().catch(() => {})));
  };
  try {
    // 1. Bootstrap node 1 alone: the init file creates the database and the user; a clean stop saves the position.
    await startNode(cluster, 0, { bootstrap: true, initFile: true });
    await waitSynced(handles[0].url, 1);
    await handles[0].stop();
    // 2. The same datadir for everyone: they join at the same position, with nothing to transfer.
    for (let i = 1; i < size; i++) cpSync(join(nodeDir(cluster, 0), 'data'), join(nodeDir(cluster, i), 'data'), { recursive: true });
    for (let i = 0; i < size; i++) openToStateTransfer(join(nodeDir(cluster, i), 'data'));
    // 3. Node 1 bootstraps from its saved state; the others join it.
    await startNode(cluster, 0, { bootstrap: true });
    // allSettled: a node still starting when another failed must be known (and stopped) before we give up.
    const joined = await Promise.allSettled(cluster.nodes.slice(1).map((_, i) => startNode(cluster, i + 1, {})));
    const failed = joined.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(handles.map((handle) => waitSynced(handle.url, size)));
  } catch (error) {
    await stopAll();
    throw error;
  }
  writeFileSync(join(root, 'cluster.json'), JSON.stringify({ pids: cluster.nodes.map((n) => n.server.pid), urls: handles.map((h) => h.url) }));
  return {
    dir: root,
    name: cluster.name,
    nodes: handles,
    urls: handles.map((handle) => handle.url),
    /** Stops every node (by PID) and removes the directory. */
    async stop() {
      await stopAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Stops a cluster started by `start` in another process, by the PIDs it recorded. */
async function stopRecorded(root) {
  const statePath = join(root, 'cluster.json');
  if (!existsSync(statePath)) throw new Error(`no cluster recorded in ${root}`);
  const { pids } = JSON.parse(readFileSync(statePath, 'utf8'));
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (pids.some(isRunning) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
}

async function cli() {
  const [command, dirArg] = process.argv.slice(2);
  const root = resolve(dirArg ?? DEFAULT_CLI_DIR);
  if (command === 'start') {
    if (existsSync(join(root, 'cluster.json'))) throw new Error(`a cluster is recorded in ${root}; stop it first`);
    const started = performance.now();
    const cluster = await startGaleraCluster({ dir: root, detached: true });
    console.log(`# Galera cluster ${cluster.name}: ${cluster.nodes.length} nodes in ${root}, up in ${Math.round(performance.now() - started)} ms`);
    console.log(`export GALERA_URLS='${cluster.urls.join(' ')}'`);
  } else if (command === 'stop') {
    await stopRecorded(root);
    console.log(`# stopped and removed ${root}`);
  } else {
    console.error('usage: node scripts/galera.mjs start|stop [DIR]');
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1] ? resolve(process.argv[1]) : ''}`) {
  cli().catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
