/** The conditions a reader needs to judge the numbers: machine, versions, commit, date. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, totalmem, availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

function git(args: string[], cwd: string): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The version of `name` as `from` resolves it: the library's deps from the root, the peers from bench/. */
function versionOf(name: string, from: string): string {
  const require = createRequire(join(from, 'package.json'));
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose exports hide package.json: read it from disk.
    try {
      const main = require.resolve(name);
      const at = main.lastIndexOf(`node_modules/${name}/`);
      return (JSON.parse(readFileSync(`${main.slice(0, at)}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  }
}

const LIBRARY_PACKAGES = ['sodium-native', 'msgpackr', 'lru-cache', 'mysql2', 'piscina', 'uWebSockets.js', 'tsx'];
const BENCH_PACKAGES = [
  'express',
  'express-session',
  'memorystore',
  'session-file-store',
  'express-mysql-session',
  'fastify',
  '@fastify/secure-session',
  '@fastify/session',
  '@fastify/cookie',
  'iron-session',
  'vega',
  'vega-lite',
];

export interface Conditions {
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly machine: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly node: string;
  readonly quick: boolean;
  /** 1-minute load average when the run started: other work on a shared box shows here. */
  readonly loadAtStart: number;
  readonly versions: Record<string, string>;
}

export function collectConditions(root: string, quick: boolean): Conditions {
  const cpu = cpus()[0]?.model ?? 'unknown';
  const status = git(['status', '--porcelain', '--untracked-files=no'], root);
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short=12', 'HEAD'], root),
    dirty: status !== '' && status !== 'unknown',
    machine: `${platform()} ${release()}`,
    cpu,
    cores: availableParallelism(),
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} GiB free at start)`,
    node: process.version,
    quick,
    loadAtStart: loadavg()[0] ?? 0,
    versions: Object.fromEntries([
      ...LIBRARY_PACKAGES.map((name) => [name, versionOf(name, root)]),
      ...BENCH_PACKAGES.map((name) => [name, versionOf(name, join(root, 'bench'))]),
    ]),
  };
}
