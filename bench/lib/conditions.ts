/** The conditions a reader needs to judge the numbers: machine, versions, commit, date. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, platform, release, totalmem, availableParallelism } from 'node:os';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function git(args: string[], cwd: string): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function versionOf(name: string): string {
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
    versions: Object.fromEntries(
      [
        'sodium-native',
        'msgpackr',
        'lru-cache',
        'mysql2',
        'piscina',
        'uWebSockets.js',
        'autocannon',
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
      ].map((name) => [name, versionOf(name)]),
    ),
  };
}
