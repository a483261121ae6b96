/** autocannon runs, driven from a separate, long-lived process (bench/drive.mjs). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface, type Interface } from 'node:readline';
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

export class LoadGenerator {
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = '';

  constructor() {
    this.#child = spawn(process.execPath, [DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-1000);
    });
    this.#lines = createInterface({ input: this.#child.stdout! });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  run(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`autocannon driver gave no result within ${job.durationSeconds + 30} s: ${this.#stderr}`)), (job.durationSeconds + 30) * 1000);
      this.#waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as LoadResult);
      });
      this.#child.stdin!.write(`${JSON.stringify(job)}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null) return resolve();
      this.#child.once('exit', () => resolve());
      this.#child.stdin!.end();
    });
  }
}
