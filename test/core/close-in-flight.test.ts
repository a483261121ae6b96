/**
 * close() with operations in flight: each one completes, or ends with
 * ERR_SESSION_CLOSED; none reads a live session as missing, or fails as
 * a store error, because the stores closed under it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoreKey, StoredRecord } from '../../src/stores/store.ts';
import { cacheManager, context, cookieHeaderFrom, FakeClock, testKey } from '../helpers/manager.ts';
import { nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

/** Settles every promise and tells how each ended: 'ok' or its error code. */
async function outcomes(calls: Array<Promise<unknown>>): Promise<string[]> {
  return (await Promise.allSettled(calls)).map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code ?? r.reason)));
}

describe('close with operations in flight', () => {
  it('lets in-flight loads of the cache store finish or say CLOSED, never NOT_FOUND', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const sessions = await Promise.all(Array.from({ length: 50 }, () => manager.create(ctx)));
    for (const s of sessions) await manager.setCookie(ctx, s);
    const cookies = ctx.setCookies.map((c) => c.split(';')[0]!);
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      calls.push(manager.load(ctx, sessions[i]!.id), manager.getSessionFromCookie(context({ cookieHeader: cookies[i] })), manager.set(sessions[i]!.id, 'k', i));
    }
    const closing = manager.close();
    for (const s of sessions) calls.push(manager.load(ctx, s.id)); // after close began
    const ended = await outcomes(calls);
    await closing;
    for (const outcome of ended) assert.ok(outcome === 'ok' || outcome === 'ERR_SESSION_CLOSED', `an operation ended with ${outcome}`);
    assert.ok(ended.slice(0, 150).includes('ok'), 'operations already in flight completed');
    assert.ok(ended.slice(-50).every((c) => c === 'ERR_SESSION_CLOSED'), 'calls made after close() began are refused');
  });

  it('lets a read-through in flight on a persistent store finish before the store closes', async () => {
    const store = new (class extends SharedMemoryStore {
      slow: Promise<void> | undefined;
      override async find(key: StoreKey): Promise<StoredRecord | null> {
        if (this.slow) await this.slow;
        return super.find(key);
      }
    })();
    const key = testKey();
    const writer = nodeOver(store, { encryptionKey: key, now: new FakeClock().read });
    const ctx = context();
    const session = await writer.create(ctx);
    await writer.setCookie(ctx, session);
    const reader = nodeOver(store, { encryptionKey: key, now: new FakeClock().read });
    let release!: () => void;
    store.slow = new Promise((resolve) => (release = resolve));
    const reading = reader.getSessionFromCookie(context({ cookieHeader: cookieHeaderFrom(ctx) }));
    const closing = reader.close();
    setTimeout(release, 20);
    assert.equal((await reading).id, session.id, 'the read in flight completed');
    await closing;
  });
});
