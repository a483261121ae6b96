/**
 * Reading wrk's output: rates and latency percentiles from the text and the
 * script's WRK_SUMMARY line, units converted, and runs with failed
 * responses or socket errors refused. The samples are wrk 4.1's own output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptedRun, parseWrkOutput, parseWrkTime, WrkOutputError, WrkRunRefusedError } from '../lib/wrk-output.ts';

const CLEAN_TEXT = `Running 1s test @ http://127.0.0.1:18932/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   570.89us    1.38ms  12.54ms   91.86%
    Req/Sec    56.62k    35.13k  110.51k    60.00%
  Latency Distribution
     50%   93.00us
     75%  243.00us
     90%    1.59ms
     99%    7.92ms
  56333 requests in 1.00s, 6.66MB read
Requests/sec:  56261.77
Transfer/sec:      6.65MB
`;
const CLEAN_SUMMARY = 'WRK_SUMMARY {"requests":56333,"duration_us":1001266,"bytes":6983292,"status":0,"connect":0,"read":0,"write":0,"timeout":0,"p50_us":93,"p99_us":7917}\n';

const FAILING = `Running 1s test @ http://127.0.0.1:18932/bad
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.27ms  198.08us   2.78s    97.00%
    Req/Sec    79.42k    11.03k  103.79k    80.00%
  Latency Distribution
     50%    1.02s
     75%    1.10s
     90%    1.20s
     99%    1.50m
  78861 requests in 2.00m, 9.85MB read
  Socket errors: connect 0, read 12, write 0, timeout 3
  Non-2xx or 3xx responses: 78
Requests/sec:    657.18
Transfer/sec:     84.05KB
WRK_SUMMARY {"requests":78861,"duration_us":120000000,"bytes":10328000,"status":78,"connect":0,"read":12,"write":0,"timeout":3,"p50_us":1020000,"p99_us":90000000}
`;

test('wrk times convert to milliseconds from every unit wrk prints', () => {
  assert.equal(parseWrkTime('93.00us'), 0.093);
  assert.equal(parseWrkTime('1.59ms'), 1.59);
  assert.equal(parseWrkTime('2.50s'), 2500);
  assert.equal(parseWrkTime('1.00m'), 60_000);
  assert.throws(() => parseWrkTime('12 ms'), WrkOutputError);
  assert.throws(() => parseWrkTime('fast'), WrkOutputError);
});

test('text only: rate, request count, duration and p50/p99 from the latency distribution', () => {
  const result = parseWrkOutput(CLEAN_TEXT);
  assert.equal(result.requestsPerSecond, 56261.77);
  assert.equal(result.requests, 56333);
  assert.equal(result.seconds, 1);
  assert.equal(result.p50, 0.093);
  assert.equal(result.p99, 7.92);
  assert.equal(result.non2xx, 0);
  assert.deepEqual(result.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(acceptedRun(result), result);
});

test("with the script's summary line: exact counts, rate from requests over the exact duration, µs percentiles", () => {
  const result = parseWrkOutput(CLEAN_TEXT + CLEAN_SUMMARY);
  assert.equal(result.requests, 56333);
  assert.equal(result.seconds, 1.001266);
  assert.equal(result.requestsPerSecond, 56333 / 1.001266);
  assert.equal(result.p50, 0.093);
  assert.equal(result.p99, 7.917);
});

test('failed statuses and socket errors are read from the text and the summary, and the run is refused', () => {
  for (const output of [FAILING, FAILING.slice(0, FAILING.indexOf('WRK_SUMMARY'))]) {
    const result = parseWrkOutput(output);
    assert.equal(result.non2xx, 78);
    assert.deepEqual(result.socketErrors, { connect: 0, read: 12, write: 0, timeout: 3 });
    assert.throws(
      () => acceptedRun(result),
      (error: unknown) => error instanceof WrkRunRefusedError && /78 of 78861 responses had a status ≥ 400; socket errors: read 12, timeout 3/.test(error.message),
    );
  }
  const textOnly = parseWrkOutput(FAILING.slice(0, FAILING.indexOf('WRK_SUMMARY')));
  assert.equal(textOnly.p50, 1020);
  assert.equal(textOnly.p99, 90_000);
  assert.equal(textOnly.seconds, 120);
});

test('a run with socket errors only, or failed statuses only, is refused too', () => {
  const socketOnly = CLEAN_TEXT.replace('Requests/sec', '  Socket errors: connect 2, read 0, write 0, timeout 0\nRequests/sec');
  assert.throws(() => acceptedRun(parseWrkOutput(socketOnly)), /socket errors: connect 2/);
  const statusOnly = CLEAN_TEXT.replace('Requests/sec', '  Non-2xx or 3xx responses: 1\nRequests/sec');
  assert.throws(() => acceptedRun(parseWrkOutput(statusOnly)), /1 of 56333 responses had a status ≥ 400/);
});

test('the text and the summary line must agree, or the output is not trusted', () => {
  const hiddenFailures = CLEAN_TEXT + CLEAN_SUMMARY.replace('"status":0', '"status":5');
  assert.throws(() => parseWrkOutput(hiddenFailures), /disagree: status errors 5 vs 0/);
  const otherCount = CLEAN_TEXT + CLEAN_SUMMARY.replace('"requests":56333', '"requests":1');
  assert.throws(() => parseWrkOutput(otherCount), /requests 1 vs 56333/);
  assert.throws(() => parseWrkOutput(CLEAN_TEXT + 'WRK_SUMMARY {"requests":1\n'), /not JSON/);
  assert.throws(() => parseWrkOutput(CLEAN_TEXT + CLEAN_SUMMARY.replace('"p99_us":7917', '"p99_us":"x"')), /no valid p99_us/);
});

test('output that is not a finished run is an error, not a zero', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:18939 Connection refused\n'), WrkOutputError);
  assert.throws(() => parseWrkOutput(''), WrkOutputError);
  const noDistribution = CLEAN_TEXT.replace(/ {2}Latency Distribution[\s\S]*?99%\s+7\.92ms\n/, '');
  assert.throws(() => parseWrkOutput(noDistribution), /--latency/);
  const zero = CLEAN_TEXT.replace('56333 requests', '0 requests').replace('56261.77', '0.00');
  assert.throws(() => acceptedRun(parseWrkOutput(zero)), /no request/);
});
