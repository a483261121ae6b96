/** A user's sessions: listForUser and destroyAllForUser ("log out everywhere"). */
import { tagHex } from '../crypto/aead.ts';
import { SessionDataError } from '../errors.ts';
import type { Session } from '../session.ts';
import { isLive, type KeyedOpenRecord } from '../tier/open-record.ts';
import type { TierKey } from '../tier/tier-key.ts';
import type { Engine } from './engine.ts';
import type { ReadPath } from './read-path.ts';

export const DEFAULT_LIST_LIMIT = 1000;

function assertUserId(call: string, userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) throw new SessionDataError(`${call}(userId): userId must be a non-empty string`);
}

export class UserSessions {
  readonly #engine: Engine;
  readonly #read: ReadPath;

  constructor(engine: Engine, read: ReadPath) {
    this.#engine = engine;
    this.#read = read;
  }

  async list<Data extends object>(userId: string, limit: number): Promise<Session<Data>[]> {
    assertUserId('listForUser', userId);
    const now = this.#engine.now();
    return (await this.#recordsOf(userId, limit)).filter(({ record }) => isLive(record, now)).map(({ key, record }) => this.#read.sessionOf<Data>(key, record, null));
  }

  async destroyAll(userId: string, except: string | undefined): Promise<number> {
    assertUserId('destroyAllForUser', userId);
    let destroyed = 0;
    for (;;) {
      const batch = (await this.#recordsOf(userId, DEFAULT_LIST_LIMIT)).filter(({ record }) => record.id !== except);
      for (const { key } of batch) {
        await this.#engine.writers.run(key, () => this.#engine.store.delete(key));
        destroyed++;
      }
      // Each round deletes at least one session, so this ends; the last round finds none left.
      if (batch.length === 0) return destroyed;
    }
  }

  /** A user's records under every ring key's tag; the tag is a 128-bit hash, so the real id is checked too. */
  async #recordsOf(userId: string, limit: number): Promise<KeyedOpenRecord[]> {
    const seen = new Set<TierKey>();
    const result: KeyedOpenRecord[] = [];
    for (const entry of this.#engine.ring.entries) {
      for (const listed of await this.#engine.store.listByUser(tagHex(entry, userId), limit)) {
        if (seen.has(listed.key) || listed.record.userId !== userId) continue;
        seen.add(listed.key);
        result.push(listed);
      }
    }
    return result;
  }
}
