#!/usr/bin/env node
// What installing rockstar-session costs a user: the tarball's size, and the
// node_modules size and install time of a fresh project, without uWebSockets.js
// and, for contrast, with it (what every consumer got while it was a hard
// dependency).
//
//   node scripts/measure-package.mjs              # offline: dependencies from the npm cache
//   node scripts/measure-package.mjs --registry   # also a cold install: empty npm cache, every package from the registry
//
// Offline installs use scripts/package-consumer.mjs (npm ci --offline over a
// lockfile made from this repository's). Times are wall clock on whatever
// else the machine is doing: state the load when quoting them.
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { installConsumer, packTarball, REPO_ROOT } from './package-consumer.mjs';

const run = promisify(execFile);
const withRegistry = process.argv.includes('--registry');
const work = mkdtempSync(join(tmpdir(), 'rockstar-measure-package-'));

/** Bytes of every file under `dir` (apparent size, symlinks not followed), and how many files. */
function treeSize(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = treeSize(path);
      bytes += inner.bytes;
      files += inner.files;
    } else {
      bytes += lstatSync(path).size;
      files += 1;
    }
  }
  return { bytes, files };
}

const MB = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const KiB = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

async function measureInstall(label, install) {
  const { seconds, dir } = await install();
  const { bytes, files } = treeSize(join(dir, 'node_modules'));
  const packages = readdirSync(join(dir, 'node_modules')).filter((name) => !name.startsWith('.')).length;
  console.log(`${label}: ${seconds.toFixed(1)} s, node_modules ${MB(bytes)} in ${files} files (${packages} top-level entries)`);
  return bytes;
}

try {
  console.log(`Node ${process.version}, ${process.platform}-${process.arch}, load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`);
  const { tarball, report } = await packTarball(join(work, 'pack'));
  console.log(`tarball ${basename(tarball)}: ${KiB(report.size)} (${report.size} bytes), unpacked ${KiB(report.unpackedSize)}, ${report.files.length} files`);

  const without = await measureInstall('npm ci --offline, without uWebSockets.js', () => installConsumer(join(work, 'without-uws'), tarball, { type: 'module' }));
  const withUws = await measureInstall('npm ci --offline, with uWebSockets.js (npm:uwebsockets@3.0.6, as 0.1.0 forced on every consumer)', () =>
    installConsumer(join(work, 'with-uws'), tarball, { type: 'module' }, ['uWebSockets.js']),
  );
  console.log(`uWebSockets.js added ${MB(withUws - without)}`);

  if (withRegistry) {
    // A user's first install: nothing cached, every package fetched and checked.
    const cold = (label, name, extra) =>
      measureInstall(label, async () => {
        const dir = join(work, name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '0.0.0', private: true, type: 'module' }));
        const started = process.hrtime.bigint();
        await run('npm', ['install', '--cache', join(work, `${name}-npm-cache`), '--no-audit', '--no-fund', '--no-update-notifier', tarball, ...extra], {
          cwd: dir,
          maxBuffer: 64 * 1024 * 1024,
        });
        return { dir, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
      });
    await cold('npm install from the registry, empty npm cache, without uWebSockets.js', 'cold-without-uws', []);
    await cold('npm install from the registry, empty npm cache, with uWebSockets.js (npm:uwebsockets@3.0.6)', 'cold-with-uws', ['uWebSockets.js@npm:uwebsockets@3.0.6']);
  }
  console.log(`(measured from ${REPO_ROOT})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
