/**
 * The package as a user gets it. `npm pack` (which runs the prepare build),
 * then the tarball installed into a fresh project with `npm ci --offline`
 * (scripts/package-consumer.mjs: dependencies from the npm cache, no network),
 * without uWebSockets.js. In that project, with plain `node` (no tsx):
 * every entry point in package.json's `exports` by import and by require, a
 * session round trip, a load through the compiled worker pool, the clear
 * error of rockstar-session/uws without its peer, and then, with uWS linked
 * in, that adapter serving requests; and the TypeScript 5.9 and 5.0
 * compilers on a typed consumer under node16, nodenext and bundler resolution.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { installConsumer, oldestTypeScriptCompiler, packTarball, REPO_ROOT, repoManifest } from '../../scripts/package-consumer.mjs';
import { CONSUMER_SOURCES, FASTIFY_TYPE_CHECKS, TYPE_CHECKS, UWS_TYPE_CHECKS, everyEntrySource, tsconfigFor, type TypeCheck } from './consumer-types.ts';

const run = promisify(execFile);
const manifest = repoManifest() as unknown as { name: string; exports: Record<string, { types: string; default: string }>; main: string; types: string };
/**
 * Entry points that need an optional peer dependency, and which. Every other
 * entry in `exports` must load, and type-check, with no optional peer
 * installed. An entry added here needs a test that installs its peer, like
 * the uWS one at the end of this file.
 */
const PEER_OF_ENTRY: Readonly<Record<string, string>> = { './uws': 'uWebSockets.js', './fastify': 'fastify' };
const specifier = (entry: string): string => (entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`);
const ENTRIES = Object.keys(manifest.exports);
const PLAIN_ENTRIES = ENTRIES.filter((entry) => !(entry in PEER_OF_ENTRY));

const WORK = mkdtempSync(join(tmpdir(), 'rockstar-package-'));
const CONSUMER = join(WORK, 'consumer');
const INSTALLED = join(CONSUMER, 'node_modules', manifest.name);
let packedFiles: string[] = [];
const compilers = { current: join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), oldest: '' };
after(() => rmSync(WORK, { recursive: true, force: true }));

/** Plain node in the consumer project, no tsx and no inherited NODE_OPTIONS; stdout parsed as JSON. */
async function inConsumer<T>(args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, args, { cwd: CONSUMER, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
  return JSON.parse(stdout) as T;
}

before(async () => {
  const packed = await packTarball(join(WORK, 'pack'));
  packedFiles = packed.report.files.map((file) => file.path);
  await installConsumer(CONSUMER, packed.tarball, { type: 'module' });
  compilers.oldest = await oldestTypeScriptCompiler();
  cpSync(new URL('./consumer/', import.meta.url), CONSUMER, { recursive: true });
  for (const [name, source] of Object.entries(CONSUMER_SOURCES)) writeFileSync(join(CONSUMER, name), source);
  writeFileSync(join(CONSUMER, 'every-entry.ts'), everyEntrySource(PLAIN_ENTRIES.map(specifier)));
}, { timeout: 180_000 });

it('packs the built dist/ with src/, the licence and the changelog, and nothing else', () => {
  const outside = packedFiles.filter((path) => !/^(dist|src)\//.test(path) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(path));
  assert.deepEqual(outside, [], 'no file outside dist/, src/ and the package documents');
  for (const path of ['LICENSE', 'CHANGELOG.md', 'README.md', 'dist/crypto/worker.js', manifest.main.slice(2), manifest.types.slice(2)]) {
    assert.ok(packedFiles.includes(path), `${path} is in the tarball`);
  }
  for (const [entry, target] of Object.entries(manifest.exports)) {
    for (const file of [target.types, target.default]) assert.ok(packedFiles.includes(file.slice(2)), `${entry}: ${file} is in the tarball`);
  }
  const sources = packedFiles.filter((path) => /^src\/.*\.ts$/.test(path) && !path.endsWith('.d.ts'));
  for (const source of sources) {
    const stem = source.slice('src/'.length, -'.ts'.length);
    for (const built of [`${stem}.js`, `${stem}.js.map`, `${stem}.d.ts`, `${stem}.d.ts.map`]) {
      assert.ok(packedFiles.includes(`dist/${built}`), `dist/${built} was built from ${source}`);
    }
  }
});

it('ships source maps and declaration maps whose sources are in the installed package', () => {
  const maps = packedFiles.filter((path) => path.endsWith('.map'));
  assert.ok(maps.length > 0);
  for (const map of maps) {
    const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(INSTALLED, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
    assert.ok(sources.length > 0, `${map} names its source`);
    for (const source of sources) {
      const path = resolve(dirname(join(INSTALLED, map)), sourceRoot, source);
      assert.ok(relative(INSTALLED, path).startsWith('src/') && existsSync(path), `${map}: ${source} resolves to a shipped file (${path})`);
    }
  }
});

it('imports and requires every entry point without any optional peer, and both give the one module', async () => {
  const report = await inConsumer<Record<string, { exports: string[]; sameModule: boolean }>>(['entries.cjs', JSON.stringify(PLAIN_ENTRIES.map(specifier))]);
  for (const entry of PLAIN_ENTRIES) {
    const loaded = report[specifier(entry)];
    assert.ok(loaded && loaded.exports.length > 0, `${entry} exports something`);
    assert.equal(loaded.sameModule, true, `${entry}: require() and import give the same module namespace`);
  }
  assert.ok(report[manifest.name]!.exports.includes('createSessionManager'));
  assert.ok(report[specifier('./node')]!.exports.includes('nodeHandler'));
});

it('lets only rockstar-session/uws load uWebSockets.js (the compiled files)', () => {
  for (const entry of Object.keys(PEER_OF_ENTRY)) assert.ok(ENTRIES.includes(entry), `${entry} is still an entry point`);
  const builtJs = packedFiles.filter((path) => path.startsWith('dist/') && path.endsWith('.js'));
  const naming = (text: RegExp) => builtJs.filter((path) => text.test(readFileSync(join(INSTALLED, path), 'utf8')));
  assert.deepEqual(naming(/['"]uWebSockets\.js['"]/), ['dist/http/uws-binding.js'], 'only the guard names the package');
  assert.deepEqual(naming(/['"]\.\/uws-binding\.js['"]/), ['dist/http/uws.js'], 'only the uWS adapter imports the guard');
});

it('without uWebSockets.js, importing or requiring rockstar-session/uws fails saying how to install it', async () => {
  const report = await inConsumer<Record<'import' | 'require', { code: string; message: string } | 'loaded'>>(['missing-peer.mjs', specifier('./uws')]);
  for (const way of ['import', 'require'] as const) {
    const outcome = report[way];
    assert.notEqual(outcome, 'loaded', `${way} must fail without uWS`);
    if (outcome === 'loaded') continue;
    assert.equal(outcome.code, 'ERR_MODULE_NOT_FOUND', way);
    assert.match(outcome.message, /needs uWebSockets\.js, which is not installed/, way);
    assert.match(outcome.message, /npm install uNetworking\/uWebSockets\.js#v\d+\.\d+\.\d+/, `${way}: names the install command`);
  }
});

it('round-trips a session on the cache store, and stack traces map to the shipped src/', async () => {
  const result = await inConsumer<{
    sameId: boolean;
    cart: string[];
    since: string;
    visits: string;
    cookieCart: string[];
    configError: { isSessionConfigError: boolean; code: string; stack: string } | null;
  }>(['--enable-source-maps', 'round-trip.mjs']);
  assert.equal(result.sameId, true);
  assert.deepEqual(result.cart, ['sku-1', 'sku-2']);
  assert.deepEqual(result.cookieCart, ['sku-1', 'sku-2']);
  assert.equal(result.since, new Date(1_700_000_000_000).toISOString());
  assert.equal(result.visits, '3');
  assert.ok(result.configError);
  assert.equal(result.configError.isSessionConfigError, true);
  assert.equal(result.configError.code, 'ERR_SESSION_CONFIG');
  assert.match(result.configError.stack, /node_modules\/rockstar-session\/src\/config\.ts:\d+:\d+/, 'the stack names the TypeScript source');
});

it('loads a session through the compiled worker pool (crypto mode pool)', async () => {
  const result = await inConsumer<{ sameId: boolean; cart: string[]; poolErrors: string[]; workerThreads: number }>(['pool-load.mjs', join(WORK, 'sessions')]);
  assert.equal(result.sameId, true);
  assert.deepEqual(result.cart, ['sku-pool']);
  assert.deepEqual(result.poolErrors, [], 'no worker failed (a dist/crypto/worker.js that cannot load would)');
  assert.ok(result.workerThreads >= 1, 'a worker thread was running');
});

/** Runs the checks at most two at a time (the machine has two cores); resolves to each one's failure output, '' if it passed. */
async function typeCheck(checks: readonly TypeCheck[]): Promise<string[]> {
  const outputs: string[] = [];
  const queue = checks.map((check, index) => ({ check, index }));
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { check, index } = next;
      const config = `tsconfig.${check.compiler}.${check.resolution}.json`;
      writeFileSync(join(CONSUMER, config), JSON.stringify(tsconfigFor(check), null, 2));
      const tsc = compilers[check.compiler];
      const version = JSON.parse(readFileSync(join(dirname(tsc), '..', 'package.json'), 'utf8')).version as string;
      try {
        await run(process.execPath, [tsc, '-p', config], { cwd: CONSUMER, timeout: 120_000 });
        outputs[index] = '';
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        outputs[index] = `TypeScript ${version}, ${check.resolution}, skipLibCheck ${check.skipLibCheck}:\n${stdout}${stderr}`;
      }
    }
  };
  await Promise.all([worker(), worker()]);
  return outputs;
}

it('type-checks a typed consumer with TypeScript 5.9 and 5.0 under node16, nodenext and bundler resolution', { timeout: 180_000 }, async () => {
  const failures = (await typeCheck(TYPE_CHECKS)).filter(Boolean);
  assert.deepEqual(failures, [], failures.join('\n'));
});

it('with uWebSockets.js installed, rockstar-session/uws loads, type-checks and serves requests', { timeout: 180_000 }, async () => {
  // A link to the repository's copy stands in for `npm install` of the peer (257 MB, not copied for each run).
  const link = join(CONSUMER, 'node_modules', 'uWebSockets.js');
  symlinkSync(join(REPO_ROOT, 'node_modules', 'uWebSockets.js'), link, 'dir');
  try {
    const entries = await inConsumer<Record<string, { exports: string[]; sameModule: boolean }>>(['entries.cjs', JSON.stringify([specifier('./uws')])]);
    assert.ok(entries[specifier('./uws')]!.exports.includes('uwsHandler'));
    assert.equal(entries[specifier('./uws')]!.sameModule, true);
    const served = await inConsumer<{ login: number; cookieSet: boolean; me: number; data: unknown; server: string | null }>(['uws-app.mjs']);
    assert.deepEqual(served, { login: 200, cookieSet: true, me: 200, data: { user: 'ada' }, server: served.server });
    assert.match(served.server ?? '', /^\d+$/, "uWebSockets answered (its own 'uwebsockets' header)");
    const failures = (await typeCheck(UWS_TYPE_CHECKS)).filter(Boolean);
    assert.deepEqual(failures, [], failures.join('\n'));
  } finally {
    unlinkSync(link);
  }
  assert.ok(!readdirSync(join(CONSUMER, 'node_modules')).includes('uWebSockets.js'));
});

it('rockstar-session/fastify loads without fastify (it uses Fastify for types only), and with it type-checks a typed plugin user', { timeout: 180_000 }, async () => {
  const without = await inConsumer<Record<string, { exports: string[]; sameModule: boolean }>>(['entries.cjs', JSON.stringify([specifier('./fastify')])]);
  assert.ok(without[specifier('./fastify')]!.exports.includes('sessionPlugin'), 'no fastify installed: the module still loads');
  // A link to the repository's copy stands in for `npm install fastify` (its own dependencies resolve from there).
  const link = join(CONSUMER, 'node_modules', 'fastify');
  symlinkSync(join(REPO_ROOT, 'node_modules', 'fastify'), link, 'dir');
  try {
    const failures = (await typeCheck(FASTIFY_TYPE_CHECKS)).filter(Boolean);
    assert.deepEqual(failures, [], failures.join('\n'));
  } finally {
    unlinkSync(link);
  }
});
