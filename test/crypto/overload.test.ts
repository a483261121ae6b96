/**
 * The pool's queue is bounded by crypto.maxQueue: past it, calls reject at
 * once with ERR_SESSION_OVERLOADED (an adapter answers 503) instead of
 * holding ever more memory; once the queue drains, calls are accepted again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { KeyRing, openBytes } from '../../src/crypto/aead.ts';
import { DEFAULT_AUTO_THRESHOLDS, PooledSealer } from '../../src/crypto/pooled-sealer.ts';
import { SessionOverloadedError } from '../../src/errors.ts';

const AD = Buffer.from('ad');

function sealer(mode: 'pool' | 'auto', maxQueue: number) {
  const key = randomBytes(32);
  const ring = new KeyRing(key);
  return { ring, sealer: new PooledSealer(ring, { mode, threads: 1, maxQueue, encryptionKey: key, previousKeys: [] }) };
}

it("rejects calls past crypto.maxQueue with ERR_SESSION_OVERLOADED in 'pool' mode, and accepts again once drained", async () => {
  const { ring, sealer: pooled } = sealer('pool', 100);
  try {
    const outcomes = await Promise.allSettled(Array.from({ length: 150 }, (_, i) => pooled.seal('record', Buffer.from(`p${i}`), AD)));
    const accepted = outcomes.filter((o): o is PromiseFulfilledResult<Buffer> => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(accepted.length, 100);
    assert.equal(refused.length, 50);
    for (const { reason } of refused) {
      assert.ok(reason instanceof SessionOverloadedError);
      assert.equal(reason.code, 'ERR_SESSION_OVERLOADED');
      assert.match(reason.message, /crypto\.maxQueue = 100/);
    }
    // The first 100 were accepted, in order, and sealed correctly.
    accepted.forEach((o, i) => assert.equal(openBytes(ring, 'record', o.value, AD)?.plaintext.toString(), `p${i}`));
    const again = await Promise.all(Array.from({ length: 100 }, () => pooled.seal('record', Buffer.from('again'), AD)));
    assert.equal(again.length, 100);
  } finally {
    await pooled.close();
  }
});

it("counts only the operations that wait for the pool in 'auto' mode (the turn's inline burst is already done)", async () => {
  const { sealer: auto } = sealer('auto', 50);
  try {
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => auto.seal('cookie', Buffer.alloc(48), AD)));
    const refused = outcomes.filter((o) => o.status === 'rejected').length;
    assert.equal(refused, 100 - DEFAULT_AUTO_THRESHOLDS.inlineBurstOps - 50);
    assert.ok(outcomes.slice(0, 66).every((o) => o.status === 'fulfilled'));
  } finally {
    await auto.close();
  }
});
