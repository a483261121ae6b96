/**
 * `npm run example:express` and `npm run example:fastify` as a user runs
 * them: each example in its own process, on the filesystem store by
 * default (SESSION_DIR), printing its URL, serving login and profile, and
 * exiting 0 on SIGTERM with the session kept on disk for the next start.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** Upper bound for an example to start or stop; it normally takes about a second. */
const PROCESS_TIMEOUT_MS = 30_000;

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
}

function startExample(script: string, env: NodeJS.ProcessEnv): Promise<Started> {
  return new Promise((resolve, reject) => {
    // What the npm script runs (package.json "example:express" / "example:fastify").
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${script}.ts`], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`example did not start:\n${output}`));
    }, PROCESS_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example exited with ${code} before listening:\n${output}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`example did not exit within ${PROCESS_TIMEOUT_MS} ms of SIGTERM`));
    }, PROCESS_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

for (const script of ['express', 'fastify']) {
  describe(`npm run example:${script}`, () => {
    it('serves login and profile, exits 0 on SIGTERM, and the session survives a restart', async () => {
      const dir = mkdtempSync(join(tmpdir(), `rockstar-example-${script}-`));
      const env = { SESSION_DIR: dir, SESSION_KEY: randomBytes(32).toString('base64') };
      try {
        let running = await startExample(script, env);
        let cookie: string;
        try {
          const login = await fetch(`${running.url}/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'username=ops&password=rockstar',
          });
          assert.equal(login.status, 200);
          cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
          assert.equal((await fetch(`${running.url}/profile`, { headers: { cookie } })).status, 200);
        } finally {
          assert.equal(await stop(running.child), 0);
        }
        assert.ok(readdirSync(join(dir, 'v1')).length > 0, 'the session is on disk');
        running = await startExample(script, env);
        try {
          const profile = await fetch(`${running.url}/profile`, { headers: { cookie } });
          assert.equal(profile.status, 200);
          assert.equal(((await profile.json()) as { username: string }).username, 'ops');
        } finally {
          assert.equal(await stop(running.child), 0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
