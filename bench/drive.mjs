/**
 * The load generator, in its own process so it never shares an event loop
 * with the server it measures. Reads one JSON job from argv, runs autocannon,
 * prints one JSON result line.
 */
import autocannon from 'autocannon';

const job = JSON.parse(process.argv[2]);
const result = await autocannon({
  url: job.url,
  method: job.method,
  headers: job.headers,
  body: job.body,
  connections: job.connections,
  pipelining: 1,
  duration: job.durationSeconds,
});
const seconds = result.duration;
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result['2xx'] / seconds,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    seconds,
    autocannonVersion: job.version,
  }) + '\n',
);
