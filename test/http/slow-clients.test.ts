/**
 * Slow clients (slowloris): a request head or body trickled a byte at a time
 * must not hold a connection for long. node:http's defaults held a trickled
 * body for 5 minutes (Fastify's, forever); the example sets headersTimeout and
 * requestTimeout to 10 s on node:http, Express and Fastify (NODE_TIMEOUTS in
 * examples/request-timeouts.ts). uWS has its own fixed rule: 10 s
 * for the head, and a body slower than 16 KiB/s is cut 10 s in (its timers
 * tick every 4 s, so 10 to 14 s). Both are
 * checked here with the example's real settings, so each case takes about
 * 10 s; the servers and cases run side by side. The server keeps answering
 * others meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXAMPLE_SERVERS, startExample, type ExampleApp } from './example-servers.ts';
import { openRaw } from './raw-http.ts';

/** Both servers cut a slow request 10 s in; this leaves room for a busy machine, and for node's 1 s check interval. */
const CUT_WITHIN_MS = 25_000;
const TRICKLE_EVERY_MS = 250;

interface Trickled {
  readonly closedAfterMs: number;
  readonly statuses: number[];
}

/** Sends `head`, then `drip` one character at a time until the server closes the connection (or CUT_WITHIN_MS passes). */
async function trickle(app: ExampleApp, head: string, drip: string): Promise<Trickled> {
  const connection = await openRaw(app.port);
  const started = Date.now();
  await connection.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (connection.socket.destroyed || connection.socket.writableEnded) return;
    connection.socket.write(drip[sent % drip.length] as string);
    sent++;
  }, TRICKLE_EVERY_MS);
  const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), CUT_WITHIN_MS).unref());
  try {
    const outcome = await Promise.race([connection.closed.then(() => 'closed' as const), deadline]);
    assert.equal(outcome, 'closed', `the server still held the connection after ${CUT_WITHIN_MS} ms (${sent} bytes trickled)`);
    return { closedAfterMs: Date.now() - started, statuses: connection.responses.map((r) => r.status) };
  } finally {
    clearInterval(timer);
    connection.end();
  }
}

describe('slow clients', { concurrency: true }, () => {
  for (const server of EXAMPLE_SERVERS) {
    describe(`on ${server}`, { concurrency: true }, () => {
      let app: ExampleApp;
      before(async () => {
        app = await startExample(server);
      });
      after(() => app.close());

      it('cuts off a login body trickled a byte at a time within the bound, and answers others meanwhile', async () => {
        const answered: number[] = [];
        const slow = trickle(app, 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', '{"a":1}');
        for (let i = 0; i < 3; i++) answered.push((await fetch(app.url('/profile'))).status);
        const { closedAfterMs, statuses } = await slow;
        assert.deepEqual(answered, [401, 401, 401]);
        // node answers 408 as it closes; uWS just closes. Nothing else is ever sent.
        assert.ok(statuses.every((status) => status === 408), `statuses ${statuses}`);
        assert.ok(closedAfterMs < CUT_WITHIN_MS, `closed after ${closedAfterMs} ms`);
        console.log(`${server}: body cut after ${closedAfterMs} ms`);
        assert.deepEqual(app.logged, []);
      });

      it('cuts off a request head trickled a byte at a time within the bound', async () => {
        const { closedAfterMs, statuses } = await trickle(app, 'POST /login HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'abcdefgh');
        assert.ok(statuses.every((status) => status === 408), `statuses ${statuses}`);
        assert.ok(closedAfterMs < CUT_WITHIN_MS, `closed after ${closedAfterMs} ms`);
        console.log(`${server}: head cut after ${closedAfterMs} ms`);
      });
    });
  }
});
