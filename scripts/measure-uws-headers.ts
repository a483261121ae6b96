/**
 * Per-request cost of copying request headers on uWS: today's getHeader()
 * calls against one req.forEach() pass over every line (what the adapter
 * does, so repeated lines count), for three realistic header sets.
 *
 *   node --import tsx scripts/measure-uws-headers.ts [--iterations 20000] [--rounds 5]
 *
 * Each timing runs inside a live route handler (the only place a uWS
 * HttpRequest exists), repeating one way of reading its headers
 * `iterations` times; the median of `rounds` (interleaved) is printed in ns
 * per request.
 * One request per header set over loopback: no load is generated.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import uWS, { type HttpRequest } from 'uWebSockets.js';
import { copyRequestHeaders } from '../src/http/uws-headers.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);

const COOKIE = `rockstar_session=${'A'.repeat(118)}`;
const HEADER_SETS: Record<string, string[]> = {
  'wrk-like (host, cookie)': [`Cookie: ${COOKIE}`],
  'curl-like (4 lines)': ['User-Agent: curl/8.5.0', 'Accept: */*', `Cookie: ${COOKIE}`],
  'browser-like (15 lines)': [
    'Connection: keep-alive',
    'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile: ?0',
    'sec-ch-ua-platform: "Linux"',
    'Upgrade-Insecure-Requests: 1',
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'Sec-Fetch-Site: same-origin',
    'Sec-Fetch-Mode: navigate',
    'Sec-Fetch-User: ?1',
    'Sec-Fetch-Dest: document',
    'Accept-Encoding: gzip, deflate, br, zstd',
    'Accept-Language: en-GB,en;q=0.9',
    `Cookie: theme=dark; _ga=GA1.1.123456789.1700000000; ${COOKIE}`,
  ],
};

let sink = 0;
const WAYS: Record<string, (req: HttpRequest) => void> = {
  'getHeader x2 (before)': (req) => {
    sink += (req.getHeader('cookie') || '').length + (req.getHeader('user-agent') || '').length;
  },
  'getHeader x3 (before, trusted proxies)': (req) => {
    sink += (req.getHeader('cookie') || '').length + (req.getHeader('user-agent') || '').length + (req.getHeader('x-forwarded-for') || '').length;
  },
  'forEach, empty callback': (req) => {
    req.forEach(() => {});
  },
  'forEach (now)': (req) => {
    sink += copyRequestHeaders(req, false, null).cookie?.length ?? 0;
  },
  'forEach (now, trusted proxies)': (req) => {
    sink += copyRequestHeaders(req, true, null).cookie?.length ?? 0;
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Rounds interleave the ways, so that a slow moment of a busy machine does not land on one of them only. */
function measure(req: HttpRequest): Record<string, number> {
  const ways = Object.entries(WAYS);
  for (const [, way] of ways) for (let i = 0; i < 5000; i++) way(req); // warm up every way first
  const rounds = new Map<string, number[]>(ways.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, way] of ways) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < ITERATIONS; i++) way(req);
      rounds.get(name)!.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
    }
  }
  return Object.fromEntries([...rounds].map(([name, values]) => [name, median(values)]));
}

const app = uWS.App().get('/*', (res, req) => {
  const timings = measure(req);
  res.end(JSON.stringify(timings));
});

const port = await new Promise<number>((resolve, reject) => {
  app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(uWS.us_socket_local_port(socket)) : reject(new Error('could not listen'))));
});

function ask(lines: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET /profile HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const body = text.indexOf('\r\n\r\n');
      if (body !== -1 && text.endsWith('}')) {
        socket.destroy();
        resolve(JSON.parse(text.slice(body + 4)));
      }
    });
    socket.on('error', reject);
  });
}

console.log(`node ${process.version}, ${ITERATIONS} iterations x ${ROUNDS} rounds (median), ns per request`);
for (const [setName, lines] of Object.entries(HEADER_SETS)) {
  const timings = await ask(lines);
  console.log(`\n${setName}`);
  for (const [way, ns] of Object.entries(timings)) console.log(`  ${way.padEnd(40)} ${ns.toFixed(0).padStart(6)} ns`);
}
app.close();
if (sink === -1) console.log(sink);
