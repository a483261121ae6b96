#!/usr/bin/env node
// Builds the package's dist/ from src/ (JavaScript, declarations, declaration
// maps and source maps; the maps point into src/, which ships beside dist/).
//
// package.json runs this as `prepare`, the one lifecycle script npm runs in
// every case that needs a build: `npm pack` and `npm publish`, `npm install`
// of a git URL (npm installs the dev dependencies in its clone first) or of a
// folder, and `npm ci` / `npm install` in this repository. A tarball or a
// registry install runs nothing: the built files are inside it.
//
// dist/ is removed first, so a file deleted from src/ never ships from an
// older build.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error(`rockstar-session build: the TypeScript compiler is not installed in ${root}node_modules; run npm install there first (with dev dependencies).`);
  process.exit(1);
}
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('rockstar-session build: tsc failed (above); nothing should be packed from this dist/.');
  process.exit(result.status ?? 1);
}
