/**
 * HTTP/1.1 over a raw TCP socket, for what fetch() cannot send: repeated
 * header lines, pipelined requests, bodies trickled byte by byte. Reads
 * every response the server sends on the connection, in order, and notes
 * whether (and when) the server closed it.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header lines as sent, names lower-cased, in order (repeats kept). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  header(name: string): string | undefined;
  json(): unknown;
}

export interface RawConnection {
  readonly socket: Socket;
  /** Responses parsed so far, in the order they arrived. */
  readonly responses: RawResponse[];
  /** Resolves when the server has closed the connection (or it errored). */
  readonly closed: Promise<void>;
  /** Resolves once `count` responses have arrived, or rejects when the connection closes first or `timeoutMs` passes. */
  responsesOf(count: number, timeoutMs?: number): Promise<RawResponse[]>;
  write(text: string | Buffer): Promise<void>;
  /** Everything the server sent, as latin1 text. */
  received(): string;
  end(): void;
}

const HEAD_END = '\r\n\r\n';

function parseResponses(buffer: string, into: RawResponse[]): string {
  for (;;) {
    const headEnd = buffer.indexOf(HEAD_END);
    if (headEnd === -1) return buffer;
    const [statusLine = '', ...lines] = buffer.slice(0, headEnd).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers = lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    });
    const length = Number(headers.find(([name]) => name === 'content-length')?.[1] ?? 0);
    const bodyStart = headEnd + HEAD_END.length;
    if (buffer.length < bodyStart + length) return buffer;
    const body = Buffer.from(buffer.slice(bodyStart, bodyStart + length), 'latin1').toString('utf8');
    into.push({
      status,
      headers,
      body,
      header: (name) => headers.find(([n]) => n === name)?.[1],
      json: () => JSON.parse(body),
    });
    buffer = buffer.slice(bodyStart + length);
  }
}

export function openRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const responses: RawResponse[] = [];
    let pending = '';
    let all = '';
    let isClosed = false;
    const waiters = new Set<() => void>();
    const wake = (): void => {
      for (const waiter of [...waiters]) waiter();
    };
    const closed = new Promise<void>((done) => {
      socket.on('close', () => {
        isClosed = true;
        done();
        wake();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      all += text;
      pending = parseResponses(pending + text, responses);
      wake();
    });
    socket.on('error', () => {}); // a reset shows as 'close'
    socket.once('connect', () => {
      resolve({
        socket,
        responses,
        closed,
        responsesOf(count, timeoutMs = 10_000) {
          return new Promise((done, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`${responses.length} of ${count} responses within ${timeoutMs} ms; received:\n${all}`));
            }, timeoutMs);
            const check = (): void => {
              if (responses.length >= count) {
                clearTimeout(timer);
                waiters.delete(check);
                done(responses.slice(0, count));
              } else if (isClosed) {
                clearTimeout(timer);
                waiters.delete(check);
                fail(new Error(`connection closed after ${responses.length} of ${count} responses; received:\n${all}`));
              }
            };
            waiters.add(check);
            check();
          });
        },
        write: (text) => new Promise((done, fail) => socket.write(text, (error) => (error ? fail(error) : done()))),
        received: () => all,
        end: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}

/** Sends `text` on a fresh connection and collects `count` responses (the connection is then closed). */
export async function rawExchange(port: number, text: string, count = 1): Promise<RawResponse[]> {
  const connection = await openRaw(port);
  try {
    await connection.write(text);
    return await connection.responsesOf(count);
  } finally {
    connection.end();
  }
}

/** A request head (and body) as raw text; `headers` may repeat names. */
export function rawRequest(method: string, path: string, headers: ReadonlyArray<readonly [string, string]>, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([name, value]) => `${name}: ${value}`)];
  if (body !== '' || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
