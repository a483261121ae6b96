import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { SessionManager } from '../../src/manager.ts';
import { cacheManager, context, HOUR, rejectsWithCode, testKey } from '../helpers/manager.ts';
import { nodeOver, SharedMemoryStore } from '../helpers/shared-store.ts';

describe('cleanupExpired', () => {
  it('removes only expired sessions and resolves to how many', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: HOUR });
    const ctx = context();
    const old = await Promise.all(Array.from({ length: 5 }, () => manager.create(ctx)));
    clock.advance(HOUR / 2);
    const young = await Promise.all(Array.from({ length: 3 }, () => manager.create(ctx)));
    clock.advance(HOUR / 2);
    assert.equal(await manager.cleanupExpired(), 5);
    for (const s of old) await rejectsWithCode(manager.load(ctx, s.id), 'ERR_SESSION_NOT_FOUND');
    for (const s of young) assert.equal(await manager.isValid(s.id), true);
    assert.equal(await manager.cleanupExpired(), 0);
    await manager.close();
  });

  it('runs on its own every cleanupInterval', async () => {
    const { manager, clock } = await cacheManager({ sessionLifetime: 1000, touchThreshold: 0, cleanupInterval: 20 });
    const session = await manager.create(context());
    clock.advance(1000);
    // The timer is real (20 ms); the clock that decides expiry is injected. Wait (bounded) for a run.
    for (let i = 0; i < 200 && (await storeHolds(manager, session.id)); i++) await new Promise((r) => setTimeout(r, 10));
    await rejectsWithCode(manager.load(context(), session.id), 'ERR_SESSION_NOT_FOUND');
    await manager.close();
  });

  it('reports a failing scheduled cleanup to onError and keeps its schedule', async () => {
    const errors: Error[] = [];
    const store = new SharedMemoryStore();
    store.deleteExpired = async () => {
      throw new Error('disk on fire');
    };
    const manager = nodeOver(store, { encryptionKey: testKey(), cleanupInterval: 10, onError: (e: Error) => errors.push(e) });
    for (let i = 0; i < 200 && errors.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await manager.close();
    assert.ok(errors.length >= 2, 'the schedule went on after a failure');
    assert.equal((errors[0] as { code?: string }).code, 'ERR_SESSION_STORE');
    assert.match(errors[0]!.message, /disk on fire/);
  });
});

/** Whether the session's record is still physically in the store (expired or not). */
async function storeHolds(manager: SessionManager, id: string): Promise<boolean> {
  try {
    await manager.load(context(), id);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'ERR_SESSION_EXPIRED';
  }
}

describe('close', () => {
  it('is idempotent, and every call afterwards rejects with ERR_SESSION_CLOSED', async () => {
    const { manager } = await cacheManager();
    const ctx = context();
    const session = await manager.create(ctx);
    await Promise.all([manager.close(), manager.close()]);
    await manager.close();
    const calls: Array<() => Promise<unknown>> = [
      () => manager.create(ctx),
      () => manager.load(ctx, session.id),
      () => manager.save(ctx, session),
      () => manager.destroy(ctx, session.id),
      () => manager.refresh(ctx, session.id),
      () => manager.get(session.id, 'k'),
      () => manager.set(session.id, 'k', 1),
      () => manager.delete(session.id, 'k'),
      () => manager.clear(session.id),
      () => manager.update(session.id, 'k', () => 1),
      () => manager.setCookie(ctx, session),
      () => manager.clearCookie(ctx),
      () => manager.getSessionFromCookie(ctx),
      () => manager.isValid(session.id),
      () => manager.isExpired(session.id),
      () => manager.cleanupExpired(),
      () => manager.regenerate(ctx, session),
      () => manager.listForUser('u'),
      () => manager.destroyAllForUser('u'),
    ];
    for (const call of calls) await rejectsWithCode(call(), 'ERR_SESSION_CLOSED');
  });

  it('leaves no timer keeping the process alive, even without close()', () => {
    const script = `
      import { createSessionManager } from './src/index.ts';
      const m = await createSessionManager({ storageType: 'cache', encryptionKey: Buffer.alloc(32, 1), cleanupInterval: 1000 });
      await m.create({ appendSetCookie() {} });
      console.log('created');
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /created/);
  });
});
