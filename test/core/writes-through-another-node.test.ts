/**
 * Writes made on a node whose cached copy is older than what the client
 * (or another node) wrote: they apply to the newest record, never to the
 * stale copy, and a change that looks like a no-op on the stale copy is
 * checked against the store before it is acknowledged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyRing, openBytes } from '../../src/crypto/aead.ts';
import { decodeTokenPayload, tokenBytesFromCookieValue } from '../../src/token.ts';
import { context, cookieHeaderFrom, FakeClock, MINUTE, testKey, type RecordingContext } from '../helpers/manager.ts';
import { nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

function twoNodes(overrides = {}) {
  const clock = new FakeClock();
  const store = new SharedMemoryStore();
  const encryptionKey = testKey();
  const node = () => nodeOver(store, { encryptionKey, now: clock.read, ...overrides });
  /** What the store holds now (a node that reads through every time). */
  const truth = () => nodeOver(store, { encryptionKey, now: clock.read, cache: { staleMs: 0 } });
  return { a: node(), b: node(), clock, encryptionKey, truth };
}

function versionIn(ctx: RecordingContext, key: Buffer): number {
  const value = cookieHeaderFrom(ctx).split('=')[1]!;
  const opened = openBytes(new KeyRing(key), 'cookie', tokenBytesFromCookieValue(value)!, Buffer.from('rockstar-session cookie rockstar_session'));
  return decodeTokenPayload(opened!.plaintext)!.version;
}

describe('a write on a node that cached an older copy', () => {
  it('deletes a key the client set through the other node, instead of acknowledging a no-op', async () => {
    const { a, b, truth } = twoNodes();
    const login = context();
    const session = await a.regenerate(login, await a.create(login));
    await b.load(context(), session.id); // node B caches the session without a cart
    const write = context({ cookieHeader: cookieHeaderFrom(login) });
    await b.getSessionFromCookie(write); // B has verified this client's cookie
    await a.set(session.id, 'cart', ['sku'], write);
    const remove = context({ cookieHeader: cookieHeaderFrom(write) });
    await b.getSessionFromCookie(remove);
    await b.delete(session.id, 'cart', remove);
    assert.deepEqual((await truth().load(context(), session.id)).data, {}, 'the key is gone from the store');
  });

  it('deletes a key another client set through the other node a moment ago (no cookie to go by)', async () => {
    const { a, b, truth } = twoNodes();
    const session = await a.create(context());
    await b.load(context(), session.id);
    await a.set(session.id, 'cart', ['sku']);
    await b.delete(session.id, 'cart'); // B's copy has no cart: it asks the store before calling it a no-op
    assert.deepEqual((await truth().load(context(), session.id)).data, {}, 'the key is gone from the store');
  });

  it('issues a refreshed cookie carrying at least the version the client had, even from an older copy', async () => {
    const { a, b, clock, encryptionKey } = twoNodes({ touchThreshold: MINUTE, cache: { staleMs: 60 * MINUTE } });
    const login = context();
    const session = await a.regenerate(login, await a.create(login));
    await b.load(context(), session.id); // B caches version 1 for an hour
    const write = context({ cookieHeader: cookieHeaderFrom(login) });
    await a.set(session.id, 'step', 1, write);
    await a.set(session.id, 'step', 2, write);
    const written = versionIn(write, encryptionKey);
    clock.advance(2 * MINUTE);
    const refresh = context({ cookieHeader: cookieHeaderFrom(write) });
    await b.refresh(refresh, session.id);
    assert.ok(versionIn(refresh, encryptionKey) >= written, 'the new cookie does not go back to the cached copy\'s version');
  });
});
