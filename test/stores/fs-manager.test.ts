/**
 * The manager end to end on storageType 'filesystem' (with its LRU in front):
 * create, save, load, refresh, destroy, regenerate, per-user listing and
 * logout-everywhere, cleanup, a restart, and a second manager (a second
 * process) sharing the directory.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, it } from 'node:test';
import { createSessionManager, type SessionConfig } from '../../src/index.ts';
import { context, cookieHeaderFrom, FakeClock, HOUR, MINUTE, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { removeRoot, tempRoot } from './fs-helpers.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeRoot(root);
});

async function fsConfig(overrides: Partial<SessionConfig> = {}): Promise<SessionConfig & { clock: FakeClock }> {
  const root = await tempRoot('fs-manager');
  roots.push(root);
  const clock = new FakeClock();
  const config = {
    storageType: 'filesystem',
    filesystemPath: root,
    encryptionKey: testKey(),
    now: clock.read,
    cleanupInterval: 0,
    crypto: { mode: 'inline' },
    sessionLifetime: HOUR,
    touchThreshold: MINUTE,
    ...overrides,
  } as const;
  // Not enumerable: createSessionManager refuses unknown options, and the clock is the test's, not the config's.
  return Object.defineProperty(config, 'clock', { value: clock, enumerable: false }) as SessionConfig & { clock: FakeClock };
}

it('creates, saves, loads, refreshes and destroys sessions on disk, and they survive a restart', async () => {
  const config = await fsConfig();
  const manager = await createSessionManager(config);
  assert.equal(manager.store.name, 'cached(filesystem)');
  const ctx = context({ userId: 'alice', ipAddress: '198.51.100.1', userAgent: 'test' });
  const session = await manager.create(ctx);
  session.data.cart = ['apple', { n: 2 }];
  session.data.when = new Date(config.clock.now);
  await manager.save(ctx, session);
  await manager.setCookie(ctx, session);
  config.clock.advance(30 * MINUTE);
  await manager.refresh(ctx, session.id);
  await manager.close();

  const restarted = await createSessionManager(config);
  try {
    const loaded = await restarted.getSessionFromCookie(context({ cookieHeader: cookieHeaderFrom(ctx) }));
    assert.deepEqual(loaded.data, { cart: ['apple', { n: 2 }], when: new Date(config.clock.now - 30 * MINUTE) });
    assert.equal(loaded.userId, 'alice');
    assert.equal(loaded.expiresAt.getTime(), config.clock.now + HOUR, 'the refresh was stored');
    await restarted.set(session.id, 'k', 'v');
    assert.equal(await restarted.get(session.id, 'k'), 'v');
    await restarted.destroy(ctx, session.id);
    await rejectsWithCode(restarted.load(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(restarted.save(ctx, loaded), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(restarted.refresh(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
  } finally {
    await restarted.close();
  }
});

it('lists and destroys a user\'s sessions, regenerates ids, and cleans up expired sessions', async () => {
  const config = await fsConfig();
  const manager = await createSessionManager(config);
  try {
    const ctx = context({ userId: 'bob' });
    const sessions = [await manager.create(ctx), await manager.create(ctx), await manager.create(ctx)];
    await manager.create(context({ userId: 'carol' }));
    assert.equal((await manager.listForUser('bob')).length, 3);
    const renewed = await manager.regenerate(context(), sessions[0]!);
    await rejectsWithCode(manager.load(ctx, sessions[0]!.id), 'ERR_SESSION_NOT_FOUND');
    assert.deepEqual((await manager.listForUser('bob')).map((s) => s.id).sort(), [renewed.id, sessions[1]!.id, sessions[2]!.id].sort());
    assert.equal(await manager.destroyAllForUser('bob', { except: renewed.id }), 2);
    assert.deepEqual((await manager.listForUser('bob')).map((s) => s.id), [renewed.id]);

    config.clock.advance(HOUR);
    await rejectsWithCode(manager.load(ctx, renewed.id), 'ERR_SESSION_EXPIRED');
    assert.equal(await manager.cleanupExpired(), 2, 'bob\'s last session and carol\'s');
    await rejectsWithCode(manager.load(ctx, renewed.id), 'ERR_SESSION_NOT_FOUND');
    assert.equal(await manager.cleanupExpired(), 0);
    const records = (await readdir(config.filesystemPath!, { recursive: true })).filter((n) => /[0-9a-f]{64}\.\d+\.\d+$/.test(n));
    assert.deepEqual(records, []);
  } finally {
    await manager.close();
  }
});

it('shares sessions between two managers on one directory: a destroy in one is final for the other', async () => {
  const config = await fsConfig({ cache: { staleMs: 0 } });
  const a = await createSessionManager(config);
  const b = await createSessionManager(config);
  try {
    const ctx = context();
    const session = await a.create(ctx);
    const inB = await b.load(ctx, session.id);
    await a.set(session.id, 'from', 'a');
    inB.data.other = 'b';
    await b.save(ctx, inB);
    assert.deepEqual((await a.load(ctx, session.id)).data, { from: 'a', other: 'b' }, 'both changes kept (per-key merge over the CAS)');
    await a.destroy(ctx, session.id);
    await rejectsWithCode(b.save(ctx, inB), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(b.set(session.id, 'x', 1), 'ERR_SESSION_NOT_FOUND');
    await rejectsWithCode(b.load(ctx, session.id), 'ERR_SESSION_NOT_FOUND');
  } finally {
    await a.close();
    await b.close();
  }
});

// The timeout turns a hang (Node's recursive mkdir spins on /proc) into a failure.
it('rejects createSessionManager with ERR_SESSION_STORE when the directory cannot be used', { timeout: 20_000 }, async () => {
  const config = await fsConfig();
  const blocker = `${config.filesystemPath}/file`;
  await import('node:fs/promises').then((fs) => fs.writeFile(blocker, 'a file, not a directory'));
  await rejectsWithCode(createSessionManager({ ...config, filesystemPath: `${blocker}/sessions` }), 'ERR_SESSION_STORE');
  await rejectsWithCode(createSessionManager({ ...config, filesystemPath: '/proc/rockstar-sessions' }), 'ERR_SESSION_STORE');
});
