/** Builds the Sealer that `crypto.mode` asks for. */
import type { ResolvedConfig } from '../config.ts';
import type { KeyRing } from './aead.ts';
import { PooledSealer } from './pooled-sealer.ts';
import { InlineSealer, type Sealer } from './sealer.ts';

/**
 * 'inline': every operation on the event loop. 'pool': every operation in
 * the worker pool, batched per turn. 'auto' (default): inline, except turns
 * that carry enough work to pay for a worker round trip (auto-thresholds.ts).
 */
export function createSealer(config: ResolvedConfig, ring: KeyRing): Sealer {
  const { mode, threads, maxQueue } = config.crypto;
  if (mode === 'inline') return new InlineSealer(ring);
  return new PooledSealer(ring, {
    mode,
    threads,
    maxQueue,
    encryptionKey: config.encryptionKey,
    previousKeys: config.previousKeys,
    onError: config.onError,
  });
}
