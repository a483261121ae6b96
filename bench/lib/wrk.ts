/**
 * Runs wrk (a C load generator: uWS outruns autocannon on a 2-core box, which
 * would make the load generator the bottleneck and flatter every ratio
 * against uWS) with the bench's Lua script, and reads its output.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptedRun, parseWrkOutput, type WrkResult } from './wrk-output.ts';

export const WRK_SCRIPT = fileURLToPath(new URL('../lua/session-mix.lua', import.meta.url));
export type WrkMix = 'read' | 'cart' | 'login';

export interface WrkJob {
  /** http://127.0.0.1:port (the script picks the paths). */
  readonly origin: string;
  readonly mix: WrkMix;
  /** Cookie request headers, one per session, visited round robin (read and cart mixes). */
  readonly cookies: readonly string[];
  readonly threads: number;
  readonly connections: number;
  /** Whole seconds: wrk's -d takes no fractions. */
  readonly durationSeconds: number;
  /** Cart mix: every Nth request of a session clears its cart. */
  readonly cartClearEvery: number;
}

/** The wrk binary, or null with the reason. */
export function findWrk(): { path: string; version: string } | { path: null; reason: string } {
  const path = process.env.BENCH_WRK ?? ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((p) => existsSync(p));
  if (!path || !existsSync(path)) return { path: null, reason: 'wrk is not installed (apt-get install wrk, or set BENCH_WRK to its path)' };
  let version = 'unknown version';
  try {
    // `wrk --version` prints its version line, then the usage, and exits 1.
    execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer"
    const out = String((error as { stdout?: string }).stdout ?? '');
    version = /^wrk (\S+)/.exec(out)?.[1] ?? version;
  }
  return { path, version };
}

/** The command line for a job, for the report and for reproducing one run by hand. */
export function wrkArgs(job: WrkJob, cookiesFile: string): string[] {
  return [
    `-t${job.threads}`,
    `-c${job.connections}`,
    `-d${job.durationSeconds}s`,
    '--latency',
    '--timeout',
    '5s',
    '-s',
    WRK_SCRIPT,
    job.origin,
    '--',
    job.mix,
    cookiesFile,
    String(job.cartClearEvery),
  ];
}

export class Wrk {
  readonly path: string;
  readonly #dir = mkdtempSync(join(tmpdir(), 'rockstar-bench-wrk-'));
  #files = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** One run. Rejects with WrkRunRefusedError when it had failed responses or socket errors, WrkOutputError when wrk did not finish. */
  run(job: WrkJob): Promise<WrkResult> {
    // Cookies go through a file: they hold ';' and '=' and there may be a hundred of them.
    const cookiesFile = job.cookies.length > 0 ? join(this.#dir, `cookies-${this.#files++}.txt`) : '-';
    if (cookiesFile !== '-') writeFileSync(cookiesFile, job.cookies.join('\n') + '\n');
    return new Promise((resolve, reject) => {
      execFile(this.path, wrkArgs(job, cookiesFile), { timeout: (job.durationSeconds + 30) * 1000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        if (cookiesFile !== '-') rmSync(cookiesFile, { force: true });
        if (error && !stdout.includes('Requests/sec')) {
          reject(new Error(`wrk failed (${error.message.split('\n')[0]}): ${(stderr || stdout).trim().slice(-300)}`));
          return;
        }
        try {
          resolve(acceptedRun(parseWrkOutput(stdout)));
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }

  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
