/**
 * When crypto.mode is 'auto', these decide whether work stays on the event
 * loop or goes to the worker pool. Measured with `npm run bench:native` on
 * the 2-core development machine; see BENCHMARKS.md (native-bench section).
 */

/**
 * Operations of one event-loop turn that run inline, at once, before the
 * sealer starts collecting a batch. A turn with fewer operations than this
 * never waits for anything: its overhead over InlineSealer is a counter.
 */
export const AUTO_INLINE_BURST_OPS = 16;
/** Same, in payload bytes: past this many bytes in one turn, further operations are collected. */
export const AUTO_INLINE_BURST_BYTES = 64 * 1024;

/**
 * A collected batch goes to the pool when it holds at least this many
 * operations, or this many payload bytes; a smaller one runs inline at the
 * end of the turn (a worker round trip would cost more main-thread time
 * than the crypto it saves).
 */
export const AUTO_POOL_MIN_OPS = 32;
export const AUTO_POOL_MIN_BYTES = 128 * 1024;

/** One message never carries more than this many operations or bytes: memory per batch stays bounded. */
export const MAX_BATCH_OPS = 1024;
export const MAX_BATCH_BYTES = 1024 * 1024;

/** With several threads, a turn's batch is split so that each chunk has at least this many operations. */
export const SPLIT_MIN_OPS = 64;
