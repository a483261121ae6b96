/**
 * `npm start` as a user runs it: examples/app.ts in its own process, reading
 * its environment, printing its URL, warning about a missing key, and
 * closing cleanly on SIGTERM and SIGINT.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { sessionConfigFromEnv, EnvConfigError } from '../../examples/config.ts';

const APP = resolve('examples/app.ts');
/** Upper bound for the app to start or stop; it normally takes well under a second. */
const PROCESS_TIMEOUT_MS = 20_000;

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

function startApp(env: NodeJS.ProcessEnv): Promise<Started> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', APP], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not start:\n${output}`));
    }, PROCESS_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1], output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} before listening:\n${output}`));
    });
  });
}

function exitOf(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not exit within ${PROCESS_TIMEOUT_MS} ms of ${signal}`));
    }, PROCESS_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
    child.kill(signal);
  });
}

async function loginAndProfile(url: string): Promise<number> {
  const login = await fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=ops&password=rockstar',
  });
  assert.equal(login.status, 200);
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  return (await fetch(`${url}/profile`, { headers: { cookie } })).status;
}

describe('the example app as a process', () => {
  it('runs on the filesystem store by default, keeps sessions in SESSION_DIR, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rockstar-app-'));
    try {
      const app = await startApp({ SESSION_DIR: dir, SESSION_KEY: randomBytes(32).toString('base64'), SESSION_STORE: '' });
      assert.match(app.output(), /uws, filesystem store/);
      assert.doesNotMatch(app.output(), /WARNING/);
      assert.equal(await loginAndProfile(app.url), 200);
      assert.ok(readdirSync(dir).length > 0, 'the session went to SESSION_DIR');
      assert.equal(await exitOf(app.child, 'SIGTERM'), 0);
      assert.match(app.output(), /SIGTERM: shutting down/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns loudly without SESSION_KEY, serves on node:http when asked, and exits 0 on SIGINT', async () => {
    const app = await startApp({ SESSION_STORE: 'cache', SESSION_KEY: '', HTTP_SERVER: 'node' });
    assert.match(app.output(), /\*\*\* WARNING: SESSION_KEY is not set/);
    assert.match(app.output(), /Sessions will NOT survive a restart/);
    assert.match(app.output(), /\(node, cache store\)/);
    assert.equal(await loginAndProfile(app.url), 200);
    assert.equal(await exitOf(app.child, 'SIGINT'), 0);
  });

  it('refuses to start with a malformed SESSION_KEY, saying what is wrong', async () => {
    await assert.rejects(startApp({ SESSION_STORE: 'cache', SESSION_KEY: 'c2hvcnQ=' }), /SESSION_KEY must be base64 of exactly 32 bytes; it decodes to 5/);
  });
});

/** Runs the app (filesystem store in a fresh directory, a key: no warnings) until it exits by itself, bounded, with its output. */
function runToExit(env: NodeJS.ProcessEnv, script = APP): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rockstar-app-'));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, HOST: '127.0.0.1', SESSION_STORE: 'filesystem', SESSION_DIR: dir, SESSION_KEY: randomBytes(32).toString('base64'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not exit within ${PROCESS_TIMEOUT_MS} ms:\n${stdout}${stderr}`));
    }, PROCESS_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('the example app on a port that is taken', () => {
  it('exits 1 with one line saying the port is in use, on uWS, node:http, Express and Fastify, when another copy holds it', async () => {
    const first = await startApp({ SESSION_STORE: 'cache', SESSION_KEY: randomBytes(32).toString('base64') });
    try {
      const port = new URL(first.url).port;
      const runs = [
        ['uws', APP],
        ['node', APP],
        ['express', resolve('examples/express.ts')],
        ['fastify', resolve('examples/fastify.ts')],
      ] as const;
      for (const [server, script] of runs) {
        const second = await runToExit({ PORT: port, HTTP_SERVER: server }, script);
        assert.equal(second.code, 1, `${server}: ${second.stdout}${second.stderr}`);
        assert.equal(second.stdout, '', `${server} printed nothing else`);
        assert.equal(second.stderr.trimEnd().split('\n').length, 1, `${server}: one line, no stack trace:\n${second.stderr}`);
        assert.match(second.stderr, new RegExp(`^error: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`), server);
      }
      // The first copy still has the port to itself, and serves.
      assert.equal(await loginAndProfile(first.url), 200);
    } finally {
      assert.equal(await exitOf(first.child, 'SIGTERM'), 0);
    }
  });

  it('exits 1 with one line for a malformed TRUSTED_PROXIES entry', async () => {
    const run = await runToExit({ PORT: '0', TRUSTED_PROXIES: 'localhost' });
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^error: ERR_SESSION_CONFIG: trustedProxies\[0\] must be an address or CIDR range/);
  });
});

describe('sessionConfigFromEnv', () => {
  const key = randomBytes(32).toString('base64');

  it('defaults to the filesystem store in ./sessions with a non-Secure Lax cookie', () => {
    const { config, warnings } = sessionConfigFromEnv({ SESSION_KEY: key });
    assert.equal(config.storageType, 'filesystem');
    assert.equal(config.filesystemPath, './sessions');
    assert.equal(config.cookieSecure, false);
    assert.equal(config.cookieSameSite, 'Lax');
    assert.deepEqual(warnings, []);
  });

  it('marks the cookie Secure with COOKIE_SECURE=1, and names it __Host-rockstar_session (Path=/, no Domain)', () => {
    const { config } = sessionConfigFromEnv({ SESSION_KEY: key, COOKIE_SECURE: '1' });
    assert.equal(config.cookieSecure, true);
    assert.equal(config.cookieName, '__Host-rockstar_session');
    assert.equal(config.cookiePath, '/');
    assert.equal(config.cookieDomain, undefined);
    assert.equal(sessionConfigFromEnv({ SESSION_KEY: key }).config.cookieName, 'rockstar_session');
  });

  it('reads TRUSTED_ORIGINS as origins, and refuses what is not one, saying why', () => {
    assert.deepEqual(sessionConfigFromEnv({ SESSION_KEY: key }).trustedOrigins, []);
    assert.deepEqual(sessionConfigFromEnv({ SESSION_KEY: key, TRUSTED_ORIGINS: 'https://Shop.Example.com, http://127.0.0.1:3000/' }).trustedOrigins, [
      'https://shop.example.com',
      'http://127.0.0.1:3000',
    ]);
    assert.throws(() => sessionConfigFromEnv({ SESSION_KEY: key, TRUSTED_ORIGINS: 'https://shop.example.com/app' }), /TRUSTED_ORIGINS: .* is not an origin .*did you mean https:\/\/shop\.example\.com\?/);
    assert.throws(() => sessionConfigFromEnv({ SESSION_KEY: key, TRUSTED_ORIGINS: 'shop.example.com' }), /TRUSTED_ORIGINS: "shop\.example\.com" is not a URL/);
    assert.throws(() => sessionConfigFromEnv({ SESSION_KEY: key, TRUSTED_ORIGINS: 'ftp://shop.example.com' }), /not an http\(s\) origin/);
  });

  it('needs MYSQL_URL for the database store', () => {
    assert.throws(() => sessionConfigFromEnv({ SESSION_KEY: key, SESSION_STORE: 'database' }), EnvConfigError);
    const { config } = sessionConfigFromEnv({ SESSION_KEY: key, SESSION_STORE: 'database', MYSQL_URL: 'mysql://u:p@127.0.0.1:3306/db' });
    assert.deepEqual(config.database, { uri: 'mysql://u:p@127.0.0.1:3306/db' });
  });

  it('refuses unknown stores', () => {
    assert.throws(() => sessionConfigFromEnv({ SESSION_KEY: key, SESSION_STORE: 'redis' }), /SESSION_STORE must be one of filesystem, cache, database/);
  });

  it('generates a key when none is given, and says so', () => {
    const { config, warnings } = sessionConfigFromEnv({ SESSION_STORE: 'cache' });
    assert.equal((config.encryptionKey as Buffer).byteLength, 32);
    assert.ok(warnings.some((w) => w.includes('SESSION_KEY is not set')));
  });
});
