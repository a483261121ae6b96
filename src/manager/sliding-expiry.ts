/**
 * Sliding expiry: refresh() and refreshDue(), decided from the expiry
 * sealed in the client's cookie, not from the record's.
 *
 * A write without a ctx extends the record but not the cookie, and the
 * cookie is what the client presents, so the cookie is the basis. Debounced
 * twice over by touchThreshold: nothing at all while the cookie was issued
 * less than touchThreshold ago; no store write (a metadata-only touch)
 * unless it moves the record's expiry by at least touchThreshold.
 *
 * A client can keep presenting a cookie after it was given a fresh one: it
 * ignores Set-Cookie (a script, a load generator), or its requests were
 * already in flight. The token map remembers when this process re-issued a
 * cookie for each one it verified, so such a client gets a fresh cookie at
 * most once per touchThreshold, not one (sealed, and written out) per request.
 */
import { SessionExpiredError, SessionNotFoundError } from '../errors.ts';
import type { SessionContext } from '../http/context.ts';
import { Session, sessionExpiresAtMs, sessionState, type SessionState } from '../session.ts';
import type { TokenClaims } from '../tier/token-map.ts';
import type { TierKey } from '../tier/tier-key.ts';
import { isLive } from '../tier/open-record.ts';
import { parseSessionId } from '../token.ts';
import { issueCookie } from './cookie-tokens.ts';
import type { Engine } from './engine.ts';
import type { ReadPath } from './read-path.ts';

export class SlidingExpiry {
  readonly #engine: Engine;
  readonly #read: ReadPath;

  constructor(engine: Engine, read: ReadPath) {
    this.#engine = engine;
    this.#read = read;
  }

  /**
   * True when a cookie (or record) last extended to `basis` is older than
   * touchThreshold, and can still be extended: one that already runs to the
   * absolute lifetime never is (it was capped, so its issue time is not
   * basis - sessionLifetime, and no refresh could move it). A cookie holds
   * its expiry in whole seconds, so the cap is compared at that resolution:
   * a cookie capped at 12:00:00.700 says 12:00:00.
   */
  #due(basis: number, absoluteExpiresAt: number, now: number): boolean {
    return basis < Math.floor(absoluteExpiresAt / 1000) * 1000 && now - (basis - this.#engine.config.sessionLifetime) >= this.#engine.config.touchThreshold;
  }

  /** Whether refresh would do anything at `now` (see SessionManager.refreshDue). */
  due(session: Session<object>, now: number): boolean {
    const state = session instanceof Session ? sessionState(session) : undefined;
    if (!state) return true;
    const expiresAt = sessionExpiresAtMs(session);
    return expiresAt <= now || this.#dueFor(state, expiresAt, now);
  }

  /** Due by the cookie's (or record's) expiry, and not already answered by a cookie re-issued for the same token. */
  #dueFor(state: SessionState, recordExpiresAt: number, now: number): boolean {
    if (!this.#due(state.cookieExpiresAt ?? recordExpiresAt, state.base.absoluteExpiresAt, now)) return false;
    const token = state.token;
    return !(token !== null && state.cookieExpiresAt === token.expiresAt && token.reissuedWithin(now, this.#engine.config.touchThreshold));
  }

  /** refresh(): see SessionManager.refresh. */
  async refresh(sink: SessionContext | null, ctx: SessionContext | null, ref: string | Session<object>): Promise<void> {
    const now = this.#engine.now();
    const state = ref instanceof Session ? sessionState(ref) : undefined;
    if (state && sessionExpiresAtMs(ref as Session<object>) > now) {
      const session = ref as Session<object>;
      const recordExpiresAt = sessionExpiresAtMs(session);
      if (!this.#dueFor(state, recordExpiresAt, now)) return; // the hot path: a cookie issued less than touchThreshold ago
      const basis = state.cookieExpiresAt ?? recordExpiresAt;
      // Noted before anything awaits: the same cookie on requests already in flight (a page's parallel fetches) must not each get one.
      if (sink) state.token?.noteReissued(now);
      // The cookie carries at least the version its client had seen (a copy read by id may be older), and the id of the record touched.
      const version = Math.max(state.base.version, state.token?.version ?? 0);
      const expiresAt = await this.#slide(sink, state.key, state.base.id, recordExpiresAt, basis, state.base.absoluteExpiresAt, version, now);
      if (expiresAt !== null) {
        session.expiresAt = new Date(expiresAt);
        if (sink) state.cookieExpiresAt = expiresAt;
      }
      return;
    }
    const id = typeof ref === 'string' ? ref : ref?.id;
    const located = await this.#read.locateId(id);
    if (!located) throw new SessionNotFoundError();
    const { key, record } = located;
    if (!isLive(record, now)) throw new SessionExpiredError();
    const cookie = ctx ? await this.#cookieClaimsFor(ctx, key) : null;
    if (cookie?.reissuedWithin(now, this.#engine.config.touchThreshold)) return;
    // Noted only when something will be issued: a refresh that is not due must not silence the next one that is.
    if (sink && this.#due(cookie?.expiresAt ?? record.expiresAt, record.absoluteExpiresAt, now)) cookie?.noteReissued(now);
    const version = Math.max(record.version, cookie?.version ?? 0);
    await this.#slide(sink, key, record.id, record.expiresAt, cookie?.expiresAt ?? record.expiresAt, record.absoluteExpiresAt, version, now);
  }

  /** The decision once due: touches the record if that gains touchThreshold, re-issues the cookie. Returns the record's expiry after it, or null. */
  async #slide(sink: SessionContext | null, key: TierKey, id: string, recordExpiresAt: number, basis: number, absoluteExpiresAt: number, version: number, now: number): Promise<number | null> {
    if (!this.#due(basis, absoluteExpiresAt, now)) return null;
    const { sessionLifetime, touchThreshold } = this.#engine.config;
    const target = Math.min(now + sessionLifetime, absoluteExpiresAt);
    if (target <= basis && target <= recordExpiresAt) return null; // at the absolute cap: nothing can move
    let expiresAt = recordExpiresAt;
    if (target > recordExpiresAt && (target - recordExpiresAt >= touchThreshold || recordExpiresAt <= basis)) {
      const store = this.#engine.store;
      const touched = await this.#engine.writers.run(key, () => store.touch(key, target));
      if (!touched) throw new SessionNotFoundError('session was destroyed while this refresh was in flight');
      expiresAt = target;
    }
    if (sink) await issueCookie(this.#engine, sink, parseSessionId(id)!, expiresAt, version);
    return expiresAt;
  }

  /** What ctx's cookie proves about the session under `key`, if one of its values names it. */
  async #cookieClaimsFor(ctx: SessionContext, key: TierKey): Promise<TokenClaims | null> {
    const header = ctx.cookieHeader;
    if (typeof header !== 'string' || header.length === 0) return null;
    const now = this.#engine.now();
    for (const value of this.#engine.cookies.valuesIn(header)) {
      const candidate = this.#read.candidateFromMemory(value, now) ?? (await this.#read.candidate(value, now));
      if (candidate.kind === 'live' && candidate.key === key) return candidate.claims;
    }
    return null;
  }
}
