#!/usr/bin/env node
/**
 * `npm run bench [-- --quick]`: the whole benchmark in one command.
 *  1. installs bench/'s own dependencies (the peers) when they are missing,
 *  2. runs `npm run bench:native` (the building blocks) when the project has it,
 *  3. runs bench/run.ts (the engine against its peers), which rewrites BENCHMARKS.md.
 * Plain JavaScript, so it runs before anything is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = dirname(fileURLToPath(import.meta.url));
const root = dirname(bench);
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function step(title) {
  process.stderr.write(`\n=== ${title}\n`);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
  return result.status ?? 1;
}

// Missing, or older than the lockfile (someone changed the peers): install exactly what the lockfile says.
const installed = join(bench, 'node_modules', '.package-lock.json');
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(join(bench, 'package-lock.json')).mtimeMs;
if (stale) {
  step('installing bench/ dependencies (npm ci --prefix bench): the peers, kept out of the library');
  if (run(npm, ['ci', '--prefix', 'bench', '--no-audit', '--no-fund']) !== 0) process.exit(1);
}

const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
let native = 'not run: the project has no `bench:native` script yet';
if (scripts['bench:native']) {
  // On --quick, native-bench prints its tables but leaves its section of BENCHMARKS.md (and its RESULTS.md) as its
  // last full run wrote them: its own choice, so short noisy samples never replace full ones. The section carries its own date.
  const nativeArgs = args.filter((a) => a === '--quick');
  step(`native-bench: npm run bench:native${nativeArgs.length ? ` -- ${nativeArgs.join(' ')}` : ''}`);
  const started = Date.now();
  const status = run(npm, ['run', 'bench:native', ...(nativeArgs.length ? ['--', ...nativeArgs] : [])]);
  const seconds = Math.round((Date.now() - started) / 1000);
  const quick = nativeArgs.includes('--quick');
  native =
    status !== 0
      ? `failed (exit ${status}) after ${seconds} s; its section below is from an earlier run`
      : quick
        ? `ran first with --quick (${seconds} s), which prints its tables without writing them; its section below is from its last full run (see the date in it)`
        : `ran first (${seconds} s) and wrote its section below`;
}

step(`bench: the engine and its peers${args.length ? ` (${args.join(' ')})` : ''}`);
process.exit(run(process.execPath, ['--import', 'tsx', join(bench, 'run.ts'), ...args, `--native=${native}`]));
