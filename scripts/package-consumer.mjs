// Packs this package and installs the tarball into a fresh project, as a
// user would, without the network: the packaging test and
// scripts/measure-package.mjs share it.
//
// The consumer's dependencies come from this repository's package-lock.json:
// the consumer gets a lockfile holding the tarball and the production part of
// ours (every entry not marked dev, at the same place in the tree), each with
// its tarball URL added (our lockfile omits them), and `npm ci --offline`
// then takes each package from the npm cache by its integrity, where `npm ci`
// in this repository put it. With the URL and the integrity npm needs no
// package metadata, so this works with the registry unreachable.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = new URL('..', import.meta.url).pathname;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// No audit, funding or update chatter, and no ambient npm settings from the test run.
const QUIET = ['--no-audit', '--no-fund', '--no-update-notifier'];

/** The registry npm is configured with, without a trailing slash. */
function registryUrl() {
  const configured = process.env.npm_config_registry || execFileSync(NPM, ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
  return configured.replace(/\/+$/, '');
}

/**
 * A lockfile entry with its `resolved` tarball URL, in the registry's layout
 * (`<registry>/<name>/-/<basename>-<version>.tgz`), when it has none: npm
 * takes a package from its cache by integrity only when both are known.
 */
function withTarballUrl(path, entry, registry) {
  if (entry.resolved || entry.link || !entry.version || !entry.integrity) return entry;
  const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const base = name.slice(name.lastIndexOf('/') + 1);
  return { ...entry, resolved: `${registry}/${name}/-/${base}-${entry.version}.tgz` };
}

/** This repository's package.json. */
export function repoManifest() {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
}

/**
 * `npm pack` into `destination`: runs the `prepare` build, as a publish
 * would. Returns the tarball path and npm's own report of it.
 */
export async function packTarball(destination) {
  mkdirSync(destination, { recursive: true });
  // With --json, npm writes the report to stdout and the build's output to stderr.
  const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', destination, ...QUIET], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout);
  return { tarball: join(destination, report.filename), report };
}

/**
 * The lockfile of a project whose only dependency is `tarball`: its entry,
 * then every production entry of this repository's lockfile. `peers`: names
 * of optional peers to install too, as this repository's devDependencies
 * pin them (e.g. 'uWebSockets.js').
 */
export function consumerLockfile(tarball, peers = [], name = 'rockstar-session-consumer') {
  const manifest = repoManifest();
  const repoLock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const spec = `file:${basename(tarball)}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const own = { version: manifest.version, resolved: spec, integrity };
  for (const field of ['license', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'engines']) {
    if (manifest[field]) own[field] = manifest[field];
  }
  const dependencies = { [manifest.name]: spec };
  for (const peer of peers) dependencies[peer] = manifest.devDependencies[peer];
  const packages = {
    '': { name, version: '0.0.0', dependencies },
    [`node_modules/${manifest.name}`]: own,
  };
  const isPeer = (path) => peers.some((peer) => path === `node_modules/${peer}` || path.startsWith(`node_modules/${peer}/`));
  const registry = registryUrl();
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (!path.startsWith('node_modules/')) continue;
    if (!entry.dev) packages[path] = withTarballUrl(path, entry, registry);
    else if (isPeer(path)) packages[path] = withTarballUrl(path, { ...entry, dev: undefined }, registry);
  }
  return { name, version: '0.0.0', lockfileVersion: 3, requires: true, packages };
}

/**
 * A fresh project in `dir` that depends on `tarball` (copied in beside its
 * package.json), installed with `npm ci --offline`. `extra` fields are merged
 * into its package.json (e.g. `type`); `peers` as for consumerLockfile.
 */
export async function installConsumer(dir, tarball, extra = {}, peers = []) {
  mkdirSync(dir, { recursive: true });
  const local = join(dir, basename(tarball));
  writeFileSync(local, readFileSync(tarball));
  const lock = consumerLockfile(local, peers);
  const manifest = { name: lock.name, version: '0.0.0', private: true, ...extra, dependencies: lock.packages[''].dependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  const started = process.hrtime.bigint();
  const { stdout, stderr } = await run(NPM, ['ci', '--offline', ...QUIET], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { dir, seconds, output: stdout + stderr };
}

/**
 * The oldest TypeScript the declarations support, pinned by integrity. Not a
 * devDependency: an alias of `typescript` would fight the current compiler
 * for node_modules/.bin/tsc.
 */
export const OLDEST_TYPESCRIPT = {
  version: '5.0.4',
  integrity: 'sha512-cW9T5W9xY37cc+jfEnaUvX91foxtHkza3Nw3wkoF4sSlKn0MONdkdEndig/qPBWXNkmplh3NzayQzCiHM4/hqw==',
};

/**
 * The path of OLDEST_TYPESCRIPT's tsc, installed once under
 * node_modules/.cache/ and reused. It comes from the npm cache when it is
 * there (after the first install on a machine: no network), from the registry
 * otherwise; `npm ci` checks the pinned integrity either way.
 */
export async function oldestTypeScriptCompiler() {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', `rockstar-session-typescript-${OLDEST_TYPESCRIPT.version}`);
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  if (existsSync(tsc)) return tsc;
  // Installed beside, then moved into place whole: a run stopped halfway leaves nothing that looks installed.
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const dependencies = { typescript: OLDEST_TYPESCRIPT.version };
  const name = 'rockstar-session-oldest-typescript';
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name, version: '0.0.0', private: true, dependencies }));
  const lock = {
    name,
    version: '0.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name, version: '0.0.0', dependencies },
      'node_modules/typescript': withTarballUrl(
        'node_modules/typescript',
        { version: OLDEST_TYPESCRIPT.version, integrity: OLDEST_TYPESCRIPT.integrity, license: 'Apache-2.0', bin: { tsc: 'bin/tsc', tsserver: 'bin/tsserver' } },
        registryUrl(),
      ),
    },
  };
  writeFileSync(join(staging, 'package-lock.json'), JSON.stringify(lock));
  try {
    await run(NPM, ['ci', '--prefer-offline', '--ignore-scripts', ...QUIET], { cwd: staging, maxBuffer: 64 * 1024 * 1024 });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return tsc;
}
