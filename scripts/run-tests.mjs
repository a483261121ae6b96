#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test via tsx. Node 20's runner does
// not expand globs, so the files are listed here.
//
// MySQL tests (test/**/mysql*.test.ts) run against MYSQL_URL. Without one,
// and with mariadbd installed, a throwaway MariaDB is started here (see
// scripts/mariadb.mjs), exported to the tests as MYSQL_URL, and stopped
// afterwards. With neither, they are skipped with one line saying so, unless
// REQUIRE_MYSQL=1 (CI), which turns that skip, or MySQL tests that never
// reached the database, into a failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { findMariaDb, startMariaDb } from './mariadb.mjs';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  }).sort();
}

const isMysqlTest = (file) => basename(file).startsWith('mysql');
// Other tests may use the database too when there is one (e.g. the HTTP end-to-end ones read MYSQL_URL).
const usesDatabase = (file) => {
  try {
    return isMysqlTest(file) || readFileSync(file, 'utf8').includes('MYSQL_URL');
  } catch {
    return false; // a missing file: node --test reports it
  }
};
// These kill -9 and SIGSTOP a server of their own, so they need mariadbd itself, not just a URL.
const needsLocalMariaDb = (file) => /^mysql-(crash|hang)/.test(basename(file));

const only = process.argv.slice(2);
let files = only.length > 0 ? only : testFiles('test');
const requireMysql = process.env.REQUIRE_MYSQL === '1';
const env = { ...process.env };
const haveMariaDb = findMariaDb() !== null;
const mysqlFiles = files.filter(isMysqlTest);

const skipped = mysqlFiles.filter((file) => (needsLocalMariaDb(file) ? !haveMariaDb : !env.MYSQL_URL && !haveMariaDb));
if (skipped.length > 0) {
  const line =
    `MySQL tests skipped (${skipped.length} file${skipped.length === 1 ? "" : "s"}): mariadbd is not installed` +
    (env.MYSQL_URL ? ' (the crash and hang tests need a local one)' : ' and MYSQL_URL is not set') +
    ". Enable them: apt-get install -y mariadb-server (npm test then starts a throwaway server), or MYSQL_URL=mysql://user:pass@127.0.0.1:3306/db npm test";
  if (requireMysql) {
    console.error(`REQUIRE_MYSQL=1: ${line}`);
    process.exit(1);
  }
  console.log(`# ${line}`);
  files = files.filter((file) => !skipped.includes(file));
}

let server;
let markerDir;
if (files.some(usesDatabase)) {
  if (!env.MYSQL_URL && haveMariaDb) {
    server = await startMariaDb();
    env.MYSQL_URL = server.url;
    console.log(`# MySQL tests: throwaway MariaDB on 127.0.0.1:${server.port} (pid ${server.pid}, ${server.dir})`);
  }
  markerDir = mkdtempSync(join(tmpdir(), 'rockstar-mysql-marker-'));
  env.MYSQL_TESTS_MARKER = join(markerDir, 'ran');
}

async function finish(code) {
  if (server) await server.stop();
  let ran = false;
  if (markerDir) {
    try {
      ran = readFileSync(env.MYSQL_TESTS_MARKER, 'utf8').length > 0;
    } catch {}
    rmSync(markerDir, { recursive: true, force: true });
  }
  if (requireMysql && mysqlFiles.length > 0 && !ran) {
    console.error('REQUIRE_MYSQL=1: no MySQL test reached the database');
    code = code || 1;
  }
  process.exit(code);
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
child.on('exit', (code, signal) => void finish(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    child.kill(signal);
  });
}
