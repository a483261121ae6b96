/**
 * The uWebSockets.js in use is the native addon, not a JavaScript
 * imitation (some repackages of uWS fall back to one when the binary does
 * not load; the throughput claims of this library hold only for the real one).
 */
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import uWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);
const entry = require.resolve('uWebSockets.js');
/** The name uws.js itself builds: uws_<platform>_<arch>_<ABI>.node */
const expectedBinary = join(dirname(entry), `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);

function firstBytes(path: string, count: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(count);
    readSync(fd, bytes, 0, count, 0);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

it('has the prebuilt binary for this platform and Node ABI, and it is a native shared object', () => {
  assert.ok(existsSync(expectedBinary), `${expectedBinary} exists`);
  const magic = firstBytes(expectedBinary, 4);
  const native =
    process.platform === 'linux'
      ? magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) // ELF
      : process.platform === 'darwin'
        ? [0xcffaedfe, 0xcafebabe, 0xfeedfacf].includes(magic.readUInt32BE(0))
        : magic.subarray(0, 2).toString('latin1') === 'MZ';
  assert.ok(native, `${expectedBinary} starts with a native executable header (got ${magic.toString('hex')})`);
});

it('loaded that binary as a native addon (dlopen), and it is what the import returns', () => {
  // The module cache holds the .node file the package entry required...
  const cached = require.cache[expectedBinary];
  assert.ok(cached, `require.cache holds ${expectedBinary}`);
  assert.equal(cached.exports, require('uWebSockets.js'), 'the package entry exports the addon itself');
  assert.equal(require('uWebSockets.js').App, uWS.App, 'the ESM default import is the same object');
  // ...and the process has mapped it as a shared library: only process.dlopen does that.
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  assert.ok(report.sharedObjects.includes(expectedBinary), 'the binary is among the process shared objects');
});

it('exports native functions, not JavaScript ones', () => {
  for (const name of ['App', 'us_listen_socket_close', 'us_socket_local_port'] as const) {
    const fn = uWS[name] as unknown as () => unknown;
    assert.equal(typeof fn, 'function');
    assert.match(Function.prototype.toString.call(fn), /\{\s*\[native code\]\s*\}/, `${name} is native code`);
  }
});

it('answers HTTP as uWebSockets does (its own server header)', async () => {
  const app = uWS.App().get('/*', (res) => void res.end('hi'));
  const port = await new Promise<number>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(uWS.us_socket_local_port(socket)) : reject(new Error('listen failed'))));
  });
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await response.text(), 'hi');
    assert.match(response.headers.get('uwebsockets') ?? '', /^\d+$/, 'the uWebSockets version header');
  } finally {
    app.close();
  }
});
