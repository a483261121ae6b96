/**
 * When crypto.mode is 'auto', these decide whether work stays on the event
 * loop or goes to the worker pool. Measured with `npm run bench:native` on
 * the 2-core development machine (Node 20.20, AMD EPYC; native-bench/RESULTS.md
 * and the native-bench section of BENCHMARKS.md hold the tables):
 *
 * - one batch in flight (light load), 48-byte seal/open: the pool costs the
 *   main thread more per operation than inline up to 64 operations per batch
 *   (0.7–1.2× of inline's cost saved at 64), and less from 128 (1.5–1.6×);
 * - saturated (every turn issues new work, batches pipelined): already at
 *   64 operations per turn the pool costs the main thread 1.7–2.1× less;
 * - large payloads (half seal / half open, 1 thread): one 64 KiB operation
 *   per batch saved 0.7–1.1× (does not pay), four per batch (256 KiB) saved
 *   0.7–2.1×, about 1.3× in the median of four runs; 16 KiB or less per
 *   operation never paid for the round trip.
 *
 * Light load has CPU to spare; saturation is when the main thread's time is
 * what limits throughput. So the operation threshold sits below the
 * light-load crossover, at what pays under load.
 */

/**
 * Operations of one event-loop turn that run inline, at once, before the
 * sealer starts collecting a batch. A turn with fewer operations than this
 * never waits for anything: its overhead over InlineSealer is a counter.
 */
export const AUTO_INLINE_BURST_OPS = 16;
/** Same, in payload bytes: past this many bytes in one turn, further operations are collected. */
export const AUTO_INLINE_BURST_BYTES = 128 * 1024;

/**
 * A collected batch goes to the pool when it holds at least this many
 * operations (so a turn of 16 + 48 = 64 operations offloads 48), or this
 * many payload bytes (four 64 KiB records); a smaller one runs inline at
 * the end of the turn.
 */
export const AUTO_POOL_MIN_OPS = 48;
export const AUTO_POOL_MIN_BYTES = 256 * 1024;

/** One message never carries more than this many operations or bytes: memory per batch stays bounded. */
export const MAX_BATCH_OPS = 1024;
export const MAX_BATCH_BYTES = 1024 * 1024;

/** With several threads, a turn's batch is split so that each chunk has at least this many operations. */
export const SPLIT_MIN_OPS = 64;
