/**
 * The load generator, in its own process so it never shares an event loop
 * with the server it measures. It stays up for the whole HTTP case: one JSON
 * job per stdin line in, one JSON result per stdout line out (a fresh node
 * process per run would cost ~0.4 s of start-up each time).
 */
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const job = JSON.parse(line);
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
    }) + '\n',
  );
}
