/**
 * What 'auto' mode sends where: small turns stay inline (and never start a
 * worker), a turn with enough operations or bytes goes to the pool.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { it } from 'node:test';
import { KeyRing } from '../../src/crypto/aead.ts';
import { DEFAULT_AUTO_THRESHOLDS, PooledSealer } from '../../src/crypto/pooled-sealer.ts';

const AD = Buffer.from('ad');
const { inlineBurstOps, inlineBurstBytes, poolMinOps } = DEFAULT_AUTO_THRESHOLDS;

function autoSealer(): PooledSealer {
  const key = randomBytes(32);
  return new PooledSealer(new KeyRing(key), { mode: 'auto', threads: 1, maxQueue: 10_000, encryptionKey: key, previousKeys: [] });
}

it('runs one operation per turn inline and never starts a worker', async () => {
  const sealer = autoSealer();
  try {
    for (let i = 0; i < 200; i++) {
      const sealed = await sealer.seal('cookie', Buffer.from(`op ${i}`), AD);
      assert.equal((await sealer.open('cookie', sealed, AD))?.plaintext.toString(), `op ${i}`);
      await nextTurn();
    }
    assert.deepEqual(sealer.stats, { inlineOps: 400, deferredInlineOps: 0, pooledBatches: 0, pooledOps: 0, failedBatches: 0, rerunOps: 0 });
    assert.equal(sealer.workerThreads.length, 0);
  } finally {
    await sealer.close();
  }
});

it('keeps a long chain of awaited operations inside one turn inline, and rarely makes one wait', async () => {
  const sealer = autoSealer();
  try {
    for (let i = 0; i < 3000; i++) {
      const sealed = await sealer.seal('record', Buffer.from(`x${i}`), AD);
      if (i % 100 === 0) assert.equal((await sealer.open('record', sealed, AD))?.plaintext.toString(), `x${i}`);
    }
    assert.equal(sealer.stats.pooledOps, 0);
    // Such a chain looks like one long turn. Without the growing burst allowance every 17th
    // operation would wait for the end of the turn (~180 waits); with it, a handful.
    assert.ok(sealer.stats.deferredInlineOps <= 10, `${sealer.stats.deferredInlineOps} operations waited for the end of the turn`);
  } finally {
    await sealer.close();
  }
});

it('runs a turn just past the inline burst but under the pool minimum inline', async () => {
  const sealer = autoSealer();
  try {
    const count = inlineBurstOps + Math.floor((poolMinOps - 1) / 2);
    await Promise.all(Array.from({ length: count }, () => sealer.seal('cookie', Buffer.alloc(48), AD)));
    assert.equal(sealer.stats.inlineOps, count);
    assert.equal(sealer.stats.pooledOps, 0);
  } finally {
    await sealer.close();
  }
});

it('sends the rest of a busy turn to the pool after the inline burst', async () => {
  const sealer = autoSealer();
  try {
    await Promise.all(Array.from({ length: 200 }, () => sealer.seal('cookie', Buffer.alloc(48), AD)));
    assert.equal(sealer.stats.inlineOps, inlineBurstOps);
    assert.equal(sealer.stats.pooledOps, 200 - inlineBurstOps);
    assert.equal(sealer.stats.pooledBatches, 1, 'one turn, one batch');
  } finally {
    await sealer.close();
  }
});

it('sends a turn with many payload bytes to the pool even when it has few operations', async () => {
  const sealer = autoSealer();
  try {
    const payload = randomBytes(inlineBurstBytes);
    const sealed = await Promise.all([1, 2, 3].map(() => sealer.seal('record', payload, AD)));
    assert.equal(sealer.stats.inlineOps, 1, 'the first fills the inline byte budget');
    assert.equal(sealer.stats.pooledOps, 2);
    for (const s of sealed) assert.deepEqual((await sealer.open('record', s, AD))?.plaintext, payload);
  } finally {
    await sealer.close();
  }
});
