/**
 * Correctness is the same in every crypto mode: the round-trip and tamper
 * checks run against inline, pool and auto, both one operation at a time and
 * in bursts (many operations in one event-loop turn, which is what sends
 * work to the worker pool in 'pool' and 'auto').
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KeyRing, SEAL_OVERHEAD, type Purpose } from '../../src/crypto/aead.ts';
import { createSealer } from '../../src/crypto/factory.ts';
import { PooledSealer } from '../../src/crypto/pooled-sealer.ts';
import type { Sealer } from '../../src/crypto/sealer.ts';
import { validateConfig, type CryptoMode } from '../../src/config.ts';
import type { Session } from '../../src/session.ts';
import { cacheManager, context, cookieHeaderFrom, rejectsWithCode } from '../helpers/manager.ts';

const MODES: readonly CryptoMode[] = ['inline', 'pool', 'auto'];
/** Enough operations in one turn that 'auto' sends a batch to the pool (well past its inline burst and pool minimum). */
const BURST = 200;

function sealerFor(mode: CryptoMode, key: Buffer, previousKeys: Buffer[] = []): { sealer: Sealer; ring: KeyRing } {
  // Two threads in 'pool' so that large turns are also split across workers.
  const config = validateConfig({ storageType: 'cache', encryptionKey: key, previousKeys, crypto: { mode, threads: mode === 'pool' ? 2 : 1 } });
  const ring = new KeyRing(config.encryptionKey, config.previousKeys);
  return { sealer: createSealer(config, ring), ring };
}

function pooledOps(sealer: Sealer): number {
  return sealer instanceof PooledSealer ? sealer.stats.pooledOps : 0;
}

/** Every way of damaging sealed bytes that must make open() resolve to null. */
function damagedVariants(sealed: Buffer): Buffer[] {
  const variants: Buffer[] = [];
  for (let i = 0; i < sealed.length; i++) {
    const flipped = Buffer.from(sealed);
    flipped[i]! ^= 0x01;
    variants.push(flipped);
  }
  for (let length = 0; length < sealed.length; length++) variants.push(Buffer.from(sealed.subarray(0, length)));
  variants.push(Buffer.concat([sealed, Buffer.from([0])]));
  return variants;
}

for (const mode of MODES) {
  describe(`sealer in '${mode}' mode`, () => {
    const key = randomBytes(32);
    const { sealer } = sealerFor(mode, key);
    after(() => sealer.close());
    const ad = Buffer.from('rockstar-session cookie rockstar_session');

    it('round-trips payloads of every size, for both purposes, one operation at a time', async () => {
      for (const purpose of ['cookie', 'record'] as Purpose[]) {
        for (const size of [0, 1, 48, 256, 4096, 65536]) {
          const plaintext = randomBytes(size);
          const sealed = await sealer.seal(purpose, plaintext, ad);
          assert.equal(sealed.length, size + SEAL_OVERHEAD);
          const opened = await sealer.open(purpose, sealed, ad);
          assert.ok(opened, `${purpose} of ${size} bytes opens`);
          assert.deepEqual(opened.plaintext, plaintext);
          assert.equal(opened.stale, false);
        }
      }
    });

    it('round-trips a burst of operations issued in one turn, each caller getting its own result', async () => {
      const plaintexts = Array.from({ length: BURST }, (_, i) => randomBytes(i % 300));
      const sealed = await Promise.all(plaintexts.map((p, i) => sealer.seal(i % 2 ? 'cookie' : 'record', p, ad)));
      const opened = await Promise.all(sealed.map((s, i) => sealer.open(i % 2 ? 'cookie' : 'record', s, ad)));
      opened.forEach((o, i) => assert.deepEqual(o?.plaintext, plaintexts[i], `operation ${i}`));
      if (mode !== 'inline') assert.ok(pooledOps(sealer) > 0, 'the burst went through the worker pool');
    });

    it('never opens flipped, truncated or extended bytes (issued as one burst)', async () => {
      const sealed = await sealer.seal('cookie', randomBytes(48), ad);
      const variants = damagedVariants(sealed);
      const results = await Promise.all(variants.map((v) => sealer.open('cookie', v, ad)));
      results.forEach((r, i) => assert.equal(r, null, `variant ${i} must not open`));
    });

    it('never opens damaged bytes issued one at a time', async () => {
      const sealed = await sealer.seal('record', randomBytes(100), ad);
      for (const variant of damagedVariants(sealed).slice(0, 40)) assert.equal(await sealer.open('record', variant, ad), null);
    });

    it('does not open with other additional data or for the other purpose', async () => {
      const plaintext = randomBytes(64);
      const sealed = await sealer.seal('record', plaintext, ad);
      const burst = await Promise.all([
        ...Array.from({ length: 50 }, () => sealer.open('record', sealed, Buffer.from('another place'))),
        ...Array.from({ length: 50 }, () => sealer.open('cookie', sealed, ad)),
        ...Array.from({ length: 50 }, () => sealer.open('record', sealed, Buffer.alloc(0))),
      ]);
      burst.forEach((r) => assert.equal(r, null));
      assert.equal(await sealer.open('record', sealed, Buffer.from('another place')), null);
      assert.deepEqual((await sealer.open('record', sealed, ad))?.plaintext, plaintext);
    });

    it('does not open bytes sealed under an unknown key', async () => {
      const stranger = sealerFor('inline', randomBytes(32)).sealer;
      const foreign = await stranger.seal('cookie', randomBytes(48), ad);
      await stranger.close();
      assert.equal(await sealer.open('cookie', foreign, ad), null);
      const burst = await Promise.all(Array.from({ length: BURST }, () => sealer.open('cookie', foreign, ad)));
      burst.forEach((r) => assert.equal(r, null));
    });

    it('opens material sealed under a previous key and reports it stale; fresh material is not stale', async () => {
      const oldKey = randomBytes(32);
      const old = sealerFor('inline', oldKey).sealer;
      const oldSealed = await Promise.all(Array.from({ length: 60 }, (_, i) => old.seal('record', Buffer.from(`old ${i}`), ad)));
      await old.close();
      const { sealer: rotated } = sealerFor(mode, randomBytes(32), [oldKey]);
      try {
        const single = await rotated.open('record', oldSealed[0]!, ad);
        assert.equal(single?.plaintext.toString(), 'old 0');
        assert.equal(single?.stale, true);
        const burst = await Promise.all([
          ...oldSealed.map((s) => rotated.open('record', s, ad)),
          ...oldSealed.map(async (s) => rotated.open('record', await rotated.seal('record', Buffer.from('new'), ad), ad)),
        ]);
        burst.slice(0, 60).forEach((o, i) => {
          assert.equal(o?.plaintext.toString(), `old ${i}`);
          assert.equal(o?.stale, true);
        });
        burst.slice(60).forEach((o) => assert.equal(o?.stale, false));
      } finally {
        await rotated.close();
      }
    });

    it('rejects every call after close() with ERR_SESSION_CLOSED, and close() is idempotent', async () => {
      const { sealer: closing } = sealerFor(mode, randomBytes(32));
      await Promise.all([closing.close(), closing.close()]);
      await closing.close();
      await rejectsWithCode(closing.seal('cookie', Buffer.from('x'), ad), 'ERR_SESSION_CLOSED');
      await rejectsWithCode(closing.open('cookie', Buffer.alloc(60), ad), 'ERR_SESSION_CLOSED');
    });
  });

  describe(`session manager end to end in '${mode}' mode`, () => {
    it('creates, saves, sets and reads the cookie, and refuses a tampered cookie', async () => {
      const { manager } = await cacheManager({ crypto: { mode } });
      try {
        const ctx = context({ userId: 'alice' });
        const session = await manager.create(ctx);
        session.data.cart = { items: [1, 2, 3], total: 42.5 };
        await manager.save(ctx, session);
        await manager.setCookie(ctx, session);
        const header = cookieHeaderFrom(ctx);
        const loaded = await manager.getSessionFromCookie(context({ cookieHeader: header }));
        assert.equal(loaded.id, session.id);
        assert.deepEqual(loaded.data.cart, { items: [1, 2, 3], total: 42.5 });

        const [name, value] = header.split('=') as [string, string];
        const bytes = Buffer.from(value, 'base64url');
        bytes[bytes.length - 1]! ^= 0x80;
        await rejectsWithCode(manager.getSessionFromCookie(context({ cookieHeader: `${name}=${bytes.toString('base64url')}` })), 'ERR_SESSION_INVALID_COOKIE');
      } finally {
        await manager.close();
      }
    });

    it('serves many concurrent requests in one turn, tampered ones rejected, sound ones found', async () => {
      const { manager } = await cacheManager({ crypto: { mode } });
      try {
        const headers = await Promise.all(
          Array.from({ length: 100 }, async (_, i) => {
            const ctx = context();
            const session = await manager.create(ctx);
            session.data.n = i;
            await manager.save(ctx, session);
            await manager.setCookie(ctx, session);
            return cookieHeaderFrom(ctx);
          }),
        );
        const outcomes = await Promise.allSettled(
          headers.map((header, i) => {
            const tampered = i % 3 === 0 ? header.slice(0, -2) + (header.endsWith('AA') ? 'BB' : 'AA') : header;
            return manager.getSessionFromCookie(context({ cookieHeader: tampered }));
          }),
        );
        outcomes.forEach((outcome, i) => {
          if (i % 3 === 0) {
            assert.equal(outcome.status, 'rejected');
            assert.equal((outcome as PromiseRejectedResult).reason.code, 'ERR_SESSION_INVALID_COOKIE');
          } else {
            assert.equal(outcome.status, 'fulfilled');
            assert.equal((outcome as PromiseFulfilledResult<Session>).value.data.n, i);
          }
        });
      } finally {
        await manager.close();
      }
    });
  });
}
