/**
 * Reading wrk's output. wrk prints a human summary (with `--latency`, a
 * latency distribution); the bench's Lua script (bench/lua/session-mix.lua)
 * adds one `WRK_SUMMARY {json}` line from its `done` hook with the exact
 * counts. Both are read: the text is always there, the JSON line is exact
 * (integer µs, request counts), and when both are present they must agree.
 *
 * A run with any response of status ≥ 400 (wrk's "Non-2xx or 3xx responses",
 * which counts status > 399) or any socket error is refused: its rate would
 * count failures as throughput.
 */

export interface SocketErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
}

export interface WrkResult {
  /** Completed requests per second over the run (every one of them 2xx/3xx, or the run is refused). */
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly seconds: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Responses with status ≥ 400 (wrk's "Non-2xx or 3xx responses" line). */
  readonly non2xx: number;
  readonly socketErrors: SocketErrors;
}

export class WrkOutputError extends Error {
  override get name(): string {
    return 'WrkOutputError';
  }
}

/** A run that completed but must not be used: it had failed responses or socket errors. */
export class WrkRunRefusedError extends Error {
  readonly result: WrkResult;

  constructor(result: WrkResult) {
    const errors = result.socketErrors;
    const socket = (Object.keys(errors) as (keyof SocketErrors)[]).filter((k) => errors[k] > 0).map((k) => `${k} ${errors[k]}`);
    const parts = [
      ...(result.non2xx > 0 ? [`${result.non2xx} of ${result.requests} responses had a status ≥ 400`] : []),
      ...(socket.length > 0 ? [`socket errors: ${socket.join(', ')}`] : []),
    ];
    super(`wrk run refused: ${parts.join('; ')}`);
    this.result = result;
  }

  override get name(): string {
    return 'WrkRunRefusedError';
  }
}

const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** wrk's time format ("93.00us", "1.59ms", "2.00s", "1.00m") in milliseconds. */
export function parseWrkTime(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new WrkOutputError(`not a wrk time: ${JSON.stringify(text)}`);
  return Number(match[1]) * TIME_UNITS_MS[match[2]!]!;
}

interface ScriptSummary {
  readonly requests: number;
  readonly duration_us: number;
  readonly status: number;
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
  readonly p50_us: number;
  readonly p99_us: number;
}

const SUMMARY_FIELDS: readonly (keyof ScriptSummary)[] = ['requests', 'duration_us', 'status', 'connect', 'read', 'write', 'timeout', 'p50_us', 'p99_us'];

function scriptSummary(output: string): ScriptSummary | null {
  const line = output.split('\n').find((l) => l.startsWith('WRK_SUMMARY '));
  if (!line) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice('WRK_SUMMARY '.length));
  } catch {
    throw new WrkOutputError(`the WRK_SUMMARY line is not JSON: ${line.slice(0, 200)}`);
  }
  const summary = parsed as Record<string, unknown>;
  for (const field of SUMMARY_FIELDS) {
    const value = summary[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new WrkOutputError(`the WRK_SUMMARY line has no valid ${field}: ${line.slice(0, 200)}`);
  }
  return summary as unknown as ScriptSummary;
}

function countAfter(output: string, pattern: RegExp): number | null {
  const match = pattern.exec(output);
  return match ? Number(match[1]) : null;
}

function percentileFromText(output: string, percent: number): number | null {
  const at = output.indexOf('Latency Distribution');
  if (at === -1) return null;
  const match = new RegExp(`^\\s+${percent}(?:\\.0+)?%\\s+(\\S+)\\s*$`, 'm').exec(output.slice(at));
  return match ? parseWrkTime(match[1]!) : null;
}

/**
 * The figures of one wrk run, from its stdout. Throws WrkOutputError when
 * the output is not a finished wrk run (a connect failure, a crash, a
 * version that prints something else) or when the text and the script's
 * summary disagree.
 */
export function parseWrkOutput(output: string): WrkResult {
  const rate = countAfter(output, /^Requests\/sec:\s+([0-9]+(?:\.[0-9]+)?)\s*$/m);
  const total = /^\s*([0-9]+) requests in ([0-9.]+(?:us|ms|s|m|h)),/m.exec(output);
  if (rate === null || !total) throw new WrkOutputError(`no "Requests/sec" and "N requests in" lines in wrk's output: ${JSON.stringify(output.slice(-400))}`);
  const textNon2xx = countAfter(output, /^\s*Non-2xx or 3xx responses:\s+([0-9]+)\s*$/m) ?? 0;
  const socket = /^\s*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)\s*$/m.exec(output);
  const textErrors: SocketErrors = socket
    ? { connect: Number(socket[1]), read: Number(socket[2]), write: Number(socket[3]), timeout: Number(socket[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const textRequests = Number(total[1]);
  const summary = scriptSummary(output);
  if (summary) {
    // Both come from the same counters inside wrk: any difference means the output was not read right.
    const mismatches = [
      summary.requests !== textRequests ? `requests ${summary.requests} vs ${textRequests}` : '',
      summary.status !== textNon2xx ? `status errors ${summary.status} vs ${textNon2xx}` : '',
      ...(['connect', 'read', 'write', 'timeout'] as const).map((k) => (summary[k] !== textErrors[k] ? `${k} errors ${summary[k]} vs ${textErrors[k]}` : '')),
    ].filter(Boolean);
    if (mismatches.length > 0) throw new WrkOutputError(`wrk's text and its WRK_SUMMARY line disagree: ${mismatches.join(', ')}`);
    if (summary.duration_us <= 0) throw new WrkOutputError('the WRK_SUMMARY line has a zero duration');
    const seconds = summary.duration_us / 1e6;
    return {
      requestsPerSecond: summary.requests / seconds,
      requests: summary.requests,
      seconds,
      p50: summary.p50_us / 1000,
      p99: summary.p99_us / 1000,
      non2xx: summary.status,
      socketErrors: { connect: summary.connect, read: summary.read, write: summary.write, timeout: summary.timeout },
    };
  }
  const p50 = percentileFromText(output, 50);
  const p99 = percentileFromText(output, 99);
  if (p50 === null || p99 === null) throw new WrkOutputError('no latency distribution in wrk\'s output (was it run with --latency?)');
  return {
    requestsPerSecond: rate,
    requests: textRequests,
    seconds: parseWrkTime(total[2]!) / 1000,
    p50,
    p99,
    non2xx: textNon2xx,
    socketErrors: textErrors,
  };
}

/** The run's figures, or WrkRunRefusedError when it had failed responses or socket errors. */
export function acceptedRun(result: WrkResult): WrkResult {
  const { connect, read, write, timeout } = result.socketErrors;
  if (result.non2xx > 0 || connect + read + write + timeout > 0) throw new WrkRunRefusedError(result);
  if (result.requests === 0) throw new WrkOutputError('wrk completed no request in the run');
  return result;
}
