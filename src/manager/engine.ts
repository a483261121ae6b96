/**
 * The parts one manager is made of, shared by its read path, its write path
 * and the facade. Built once in createSessionManager.
 */
import type { ResolvedConfig } from '../config.ts';
import type { KeyRing } from '../crypto/aead.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { CookieWriter } from '../http/cookie.ts';
import type { KeyedMutex } from '../keyed-mutex.ts';
import type { RecordStore } from '../tier/record-store.ts';
import type { VerifiedTokens } from '../tier/token-map.ts';

export interface Engine {
  readonly config: ResolvedConfig;
  readonly ring: KeyRing;
  /** Cookie tokens only: records are sealed by the store layer (tier/sealed-store.ts), never by the manager. */
  readonly sealer: Sealer;
  readonly store: RecordStore;
  readonly cookies: CookieWriter;
  /** Additional data of every cookie token: a token lifted into another cookie does not open. */
  readonly cookieAd: Buffer;
  readonly tokens: VerifiedTokens;
  /** Writers to one session in this process take turns (see keyed-mutex.ts). */
  readonly writers: KeyedMutex;
  readonly now: () => number;
}
