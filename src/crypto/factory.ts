/** Builds the Sealer that `crypto.mode` asks for. */
import type { ResolvedConfig } from '../config.ts';
import type { KeyRing } from './aead.ts';
import { InlineSealer, type Sealer } from './sealer.ts';

export function createSealer(config: ResolvedConfig, ring: KeyRing): Sealer {
  return new InlineSealer(ring);
}
