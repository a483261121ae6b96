/** One autocannon run, driven from a separate process (bench/drive.mjs). */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const AUTOCANNON_VERSION: string = require('autocannon/package.json').version;
const DRIVER = fileURLToPath(new URL('../drive.mjs', import.meta.url));

export interface LoadJob {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly seconds: number;
}

export function drive(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [DRIVER, JSON.stringify({ ...job, version: AUTOCANNON_VERSION })],
      { timeout: (job.durationSeconds + 30) * 1000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`autocannon driver failed: ${error.message} ${stderr.slice(-300)}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult);
      },
    );
  });
}
