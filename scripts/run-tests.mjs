#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test via tsx. Node 20's runner does
// not expand globs, so the files are listed here. A full run then runs the
// core suites again on every store and crypto mode (the matrix, below).
//
// MySQL tests (test/**/mysql*.test.ts that reach a server) run against
// MYSQL_URL. Without one, and with mariadbd installed, a throwaway MariaDB is
// started here (see scripts/mariadb.mjs), exported to the tests as
// MYSQL_URL, and stopped afterwards.
//
// Galera tests (test/**/galera*.test.ts) run against GALERA_URLS (one URL per
// node). Without it, and with mariadbd and the galera-4 provider installed,
// a throwaway 3-node cluster is started here (scripts/galera.mjs), at the
// same time as the MariaDB. galera-failover* tests kill nodes, so they start
// a cluster of their own and need the binaries themselves.
//
// Without what they need, these tests are skipped with one line saying so,
// unless REQUIRE_MYSQL=1 (CI), which turns that skip, or MySQL or Galera
// tests that never reached their database, into a failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { haveGalera, startGaleraCluster } from './galera.mjs';
import { findMariaDb, startMariaDb } from './mariadb.mjs';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  }).sort();
}

const textOf = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return ''; // a missing file: node --test reports it
  }
};
const isGaleraTest = (file) => basename(file).startsWith('galera');
// A mysql* test that only checks options (mysql-options.test.ts) needs no server; the others reach one through the helpers.
const isMysqlTest = (file) => basename(file).startsWith('mysql') && /helpers\/mysql|MYSQL_URL/.test(textOf(file));
// Other tests may use the database too when there is one (e.g. the HTTP end-to-end ones read MYSQL_URL).
const usesDatabase = (file) => isMysqlTest(file) || (!isGaleraTest(file) && textOf(file).includes('MYSQL_URL'));
// These kill -9 and SIGSTOP a server of their own, so they need mariadbd itself, not just a URL.
const needsLocalMariaDb = (file) => /^mysql-(crash|hang|nodes)/.test(basename(file));
const needsOwnCluster = (file) => /^galera-failover/.test(basename(file));

const only = process.argv.slice(2);
let files = only.length > 0 ? only : testFiles('test');
const requireMysql = process.env.REQUIRE_MYSQL === '1';
const env = { ...process.env };
const haveMariaDb = findMariaDb() !== null;
const galeraInstalled = haveGalera();
const mysqlFiles = files.filter(isMysqlTest);
const galeraFiles = files.filter(isGaleraTest);

const skippedMysql = mysqlFiles.filter((file) => (needsLocalMariaDb(file) ? !haveMariaDb : !env.MYSQL_URL && !haveMariaDb));
const skippedGalera = galeraFiles.filter((file) => (needsOwnCluster(file) ? !galeraInstalled : !env.GALERA_URLS && !galeraInstalled));
const skipLines = [];
if (skippedMysql.length > 0) {
  skipLines.push(
    `MySQL tests skipped (${skippedMysql.length} file${skippedMysql.length === 1 ? '' : 's'}): mariadbd is not installed` +
      (env.MYSQL_URL ? ' (the crash, hang and nodes tests need a local one)' : ' and MYSQL_URL is not set') +
      '. Enable them: apt-get install -y mariadb-server (npm test then starts a throwaway server), or MYSQL_URL=mysql://user:pass@127.0.0.1:3306/db npm test',
  );
}
if (skippedGalera.length > 0) {
  skipLines.push(
    `Galera tests skipped (${skippedGalera.length} file${skippedGalera.length === 1 ? '' : 's'}): mariadbd or the galera-4 provider is not installed` +
      (env.GALERA_URLS ? ' (the failover test needs them locally)' : ' and GALERA_URLS is not set') +
      '. Enable them: apt-get install -y mariadb-server galera-4 rsync (npm test then starts a throwaway cluster), or GALERA_URLS="url1 url2 url3" npm test',
  );
}
if (skipLines.length > 0) {
  if (requireMysql) {
    for (const line of skipLines) console.error(`REQUIRE_MYSQL=1: ${line}`);
    process.exit(1);
  }
  for (const line of skipLines) console.log(`# ${line}`);
  files = files.filter((file) => !skippedMysql.includes(file) && !skippedGalera.includes(file));
}

let server;
let cluster;
const markerDir = mkdtempSync(join(tmpdir(), 'rockstar-db-marker-'));
const wantMariaDb = files.some(usesDatabase) && !env.MYSQL_URL && haveMariaDb;
const wantCluster = files.some((file) => isGaleraTest(file) && !needsOwnCluster(file)) && !env.GALERA_URLS && galeraInstalled;
// Started side by side: the cluster takes several seconds, the server about one.
const [startedServer, startedCluster] = await Promise.allSettled([
  wantMariaDb ? startMariaDb() : undefined,
  wantCluster ? startGaleraCluster() : undefined,
]);
server = startedServer.status === 'fulfilled' ? startedServer.value : undefined;
cluster = startedCluster.status === 'fulfilled' ? startedCluster.value : undefined;
const startFailure = [startedServer, startedCluster].find((outcome) => outcome.status === 'rejected');
if (startFailure) {
  await Promise.all([server?.stop(), cluster?.stop()]);
  rmSync(markerDir, { recursive: true, force: true });
  console.error(startFailure.reason);
  process.exit(1);
}
if (server) {
  env.MYSQL_URL = server.url;
  console.log(`# MySQL tests: throwaway MariaDB on 127.0.0.1:${server.port} (pid ${server.pid}, ${server.dir})`);
}
if (cluster) {
  env.GALERA_URLS = cluster.urls.join(' ');
  console.log(`# Galera tests: throwaway ${cluster.nodes.length}-node cluster on 127.0.0.1:${cluster.nodes.map((n) => n.port).join(',')} (pids ${cluster.nodes.map((n) => n.pid).join(',')}, ${cluster.dir})`);
}
env.MYSQL_TESTS_MARKER = join(markerDir, 'mysql-ran');
env.GALERA_TESTS_MARKER = join(markerDir, 'galera-ran');

function reached(marker) {
  try {
    return readFileSync(marker, 'utf8').length > 0;
  } catch {
    return false;
  }
}

async function finish(code) {
  await Promise.all([server?.stop(), cluster?.stop()]);
  const mysqlRan = reached(env.MYSQL_TESTS_MARKER);
  const galeraRan = reached(env.GALERA_TESTS_MARKER);
  rmSync(markerDir, { recursive: true, force: true });
  if (requireMysql && mysqlFiles.length > 0 && !mysqlRan) {
    console.error('REQUIRE_MYSQL=1: no MySQL test reached the database');
    code = code || 1;
  }
  if (requireMysql && galeraFiles.length > 0 && !galeraRan) {
    console.error('REQUIRE_MYSQL=1: no Galera test reached a cluster');
    code = code || 1;
  }
  process.exit(code);
}

/**
 * The matrix: a full run also runs the manager's behaviour suites
 * (test/core: tampering, merges, destroy, rotation, concurrency, expiry, …)
 * once more on every other store and crypto mode, so each of them is proven
 * on every combination (test/helpers/manager.ts reads ROCKSTAR_TEST_STORE
 * and ROCKSTAR_TEST_CRYPTO). Suites that do not touch a store or a sealer
 * (config, errors, sizes, cookie text) run once. ROCKSTAR_TEST_MATRIX=0
 * skips it.
 */
const STORE_INDEPENDENT = new Set(['config-validation.test.ts', 'errors.test.ts', 'storable-sizes.test.ts', 'clearing-cookies.test.ts', 'secrets-never-printed.test.ts']);
const matrixFiles = only.length > 0 || env.ROCKSTAR_TEST_MATRIX === '0' ? [] : testFiles('test/core').filter((file) => !STORE_INDEPENDENT.has(basename(file)));
const combinations = [];
for (const store of ['cache', 'filesystem', 'database']) {
  for (const crypto of ['inline', 'pool', 'auto']) if (store !== 'cache' || crypto !== 'inline') combinations.push({ store, crypto });
}

let current;
function runTests(testFiles, extraEnv) {
  return new Promise((resolve) => {
    current = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...testFiles], { stdio: 'inherit', env: { ...env, ...extraEnv } });
    current.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    current?.kill(signal);
  });
}

let exitCode = await runTests(files, {});
if (exitCode === 0 && matrixFiles.length > 0) {
  for (const { store, crypto } of combinations) {
    if (store === 'database' && !env.MYSQL_URL) {
      const line = `core suites on the database store (${crypto}) skipped: no MariaDB (see above)`;
      if (requireMysql) {
        console.error(`REQUIRE_MYSQL=1: ${line}`);
        exitCode = 1;
        break;
      }
      console.log(`# ${line}`);
      continue;
    }
    console.log(`# matrix: the core suites on the ${store} store, crypto mode ${crypto}`);
    const code = await runTests(matrixFiles, { ROCKSTAR_TEST_STORE: store, ROCKSTAR_TEST_CRYPTO: crypto });
    if (code !== 0) {
      console.error(`# matrix: the core suites failed on the ${store} store, crypto mode ${crypto}`);
      exitCode = code;
      break;
    }
  }
}
await finish(exitCode);
