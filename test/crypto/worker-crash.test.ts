/**
 * A crypto worker that dies mid-batch loses nothing: the operations it held
 * are re-run inline, every caller gets its correct result, and the pool
 * carries on with a replacement worker.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyRing, openBytes } from '../../src/crypto/aead.ts';
import { PooledSealer, type PooledSealerOptions } from '../../src/crypto/pooled-sealer.ts';

const AD = Buffer.from('record-key');

function pooled(key: Buffer, overrides: Partial<PooledSealerOptions> = {}) {
  const ring = new KeyRing(key);
  const errors: Error[] = [];
  const sealer = new PooledSealer(ring, {
    mode: 'pool',
    threads: 1,
    maxQueue: 100_000,
    encryptionKey: key,
    previousKeys: [],
    onError: (error) => void errors.push(error),
    ...overrides,
  });
  return { sealer, ring, errors };
}

/** Seals and opens `count` payloads, all issued in one turn; checks every result against the key ring directly. */
async function burstRoundTrip(sealer: PooledSealer, ring: KeyRing, count: number, size: number): Promise<void> {
  const plaintexts = Array.from({ length: count }, () => randomBytes(size));
  const sealed = await Promise.all(plaintexts.map((p) => sealer.seal('record', p, AD)));
  sealed.forEach((s, i) => assert.deepEqual(openBytes(ring, 'record', s, AD)?.plaintext, plaintexts[i], `seal ${i}`));
  const opened = await Promise.all(sealed.map((s) => sealer.open('record', s, AD)));
  opened.forEach((o, i) => assert.deepEqual(o?.plaintext, plaintexts[i], `open ${i}`));
}

describe('crypto worker crash', () => {
  it('re-runs the batch of a worker that exits mid-batch, and the replacement worker serves the next batches', async () => {
    const key = randomBytes(32);
    const crashCounter = new SharedArrayBuffer(4);
    const { sealer, ring, errors } = pooled(key, {
      workerUrl: new URL('./fixtures/crashing-worker.ts', import.meta.url),
      extraWorkerData: { crashCounter },
    });
    try {
      await burstRoundTrip(sealer, ring, 100, 48);
      assert.equal(new Int32Array(crashCounter)[0]! >= 2, true, 'the crashing worker saw the first batch, its replacement the next');
      const afterCrash = sealer.stats;
      assert.equal(afterCrash.failedBatches, 1);
      assert.equal(afterCrash.rerunOps, 100, 'the 100 seals of the crashed batch were re-run inline');
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /re-run inline/);

      await burstRoundTrip(sealer, ring, 100, 48);
      const later = sealer.stats;
      assert.equal(later.failedBatches, 1, 'no further failures');
      assert.ok(later.pooledBatches >= afterCrash.pooledBatches + 2, 'the pool kept taking batches');
      assert.equal(sealer.workerThreads.length, 1, 'the worker was replaced');
    } finally {
      await sealer.close();
    }
  });

  it('loses nothing when a busy worker thread is terminated from outside', async () => {
    const key = randomBytes(32);
    const { sealer, ring } = pooled(key);
    try {
      await burstRoundTrip(sealer, ring, 10, 48); // the worker is up and has served a batch
      // 16 MiB in one turn: the sealer posts a batch each time it holds 1 MiB, so batches are in the
      // worker now, and ~10 ms of work: more than a thread takes to terminate.
      const plaintexts = Array.from({ length: 256 }, () => randomBytes(64 * 1024));
      const pending = plaintexts.map((p) => sealer.seal('record', p, AD));
      assert.ok(sealer.stats.pooledBatches >= 16);
      void sealer.workerThreads[0]?.terminate();
      const sealed = await Promise.all(pending);
      sealed.forEach((s, i) => assert.deepEqual(openBytes(ring, 'record', s, AD)?.plaintext, plaintexts[i]));
      const afterTerminate = sealer.stats;
      assert.ok(afterTerminate.failedBatches >= 1, 'at least one batch was in the terminated worker');
      await burstRoundTrip(sealer, ring, 100, 48);
      assert.equal(sealer.stats.failedBatches, afterTerminate.failedBatches, 'the replacement worker serves later batches');
      assert.equal(sealer.stats.inlineOps, 0, 'one crash does not turn the pool off');
    } finally {
      await sealer.close();
    }
  });

  it('stays inline, and says so once, when the pool cannot run batches at all', async () => {
    const key = randomBytes(32);
    const { sealer, ring, errors } = pooled(key, { workerUrl: new URL('./fixtures/no-such-worker.ts', import.meta.url) });
    try {
      for (let round = 0; round < 5; round++) await burstRoundTrip(sealer, ring, 20, 48);
      assert.equal(sealer.stats.failedBatches, 3, 'three failures mark the pool broken; later batches run inline');
      assert.equal(errors.filter((e) => /runs inline/.test(e.message)).length, 1);
    } finally {
      await sealer.close();
    }
  });
});
