/**
 * How long the example's node:http servers (HTTP_SERVER=node, Express,
 * Fastify) give a client to send its request: 10 s, as uWS does by itself.
 * Kept apart from server.ts so that the Express and Fastify apps do not load
 * uWebSockets.js.
 */
export interface NodeTimeouts {
  /** To send the request head. Node's default is 60 s. */
  readonly headersMs: number;
  /** To send the whole request, head and body. Node's default is 300 s: a body trickled a byte at a time held a connection for 5 minutes. */
  readonly requestMs: number;
  /** How often node looks for requests past those deadlines (its default, 30 s, would stretch them by up to that). */
  readonly checkEveryMs: number;
}

/**
 * Slow clients (slowloris): a connection is cut when its request does not
 * arrive in time. These match what uWS does by itself, which cannot be
 * configured: 10 s to send the request head, and a body must keep coming
 * at 16 KiB/s or more, or the connection is closed 10 s after its last
 * sufficient progress (HttpContext.h, HTTP_IDLE_TIMEOUT_S and
 * HTTP_RECEIVE_THROUGHPUT_BYTES; its timers tick every 4 s, so 10 to 14 s).
 * The example's bodies are a few hundred bytes: 10 s for the whole request
 * is plenty.
 */
export const NODE_TIMEOUTS: NodeTimeouts = Object.freeze({ headersMs: 10_000, requestMs: 10_000, checkEveryMs: 1_000 });
