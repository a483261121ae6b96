/** close() leaves no key material behind: the config's key copies and the KeyRing's subkeys are overwritten with zeros. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyRing, openBytes, sealBytes, type KeyEntry } from '../../src/crypto/aead.ts';
import { createSessionManager } from '../../src/index.ts';

const allZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);
const subkeys = (entry: KeyEntry): Buffer[] => [entry.cookieKey, entry.recordKey, entry.storeKeyKey, entry.tagKey];

describe('KeyRing.zero', () => {
  it('overwrites every subkey of every key with zeros', () => {
    const ring = new KeyRing(randomBytes(32), [randomBytes(32)]);
    for (const entry of ring.entries) for (const key of subkeys(entry)) assert.ok(!allZero(key));
    ring.zero();
    assert.equal(ring.zeroed, true);
    for (const entry of ring.entries) for (const key of subkeys(entry)) assert.ok(allZero(key));
  });

  it('refuses to seal afterwards (a zero key would hand the plaintext to anyone) and opens nothing', () => {
    const ring = new KeyRing(randomBytes(32));
    const ad = Buffer.from('ad');
    const sealed = sealBytes(ring, 'record', Buffer.from('secret data'), ad);
    ring.zero();
    assert.throws(() => sealBytes(ring, 'record', Buffer.from('more'), ad), /zeroed/);
    assert.equal(openBytes(ring, 'record', sealed, ad), null);
  });

  it('is idempotent', () => {
    const ring = new KeyRing(randomBytes(32));
    ring.zero();
    ring.zero();
    assert.ok(allZero(ring.entries[0]!.cookieKey));
  });
});

describe('SessionManager.close', () => {
  for (const mode of ['inline', 'pool'] as const) {
    it(`zeroes the config's key copies and the KeyRing's subkeys (${mode} crypto), and leaves the caller's buffers alone`, async () => {
      const key = randomBytes(32);
      const previous = randomBytes(32);
      const keyCopy = Buffer.from(key);
      const rings: KeyRing[] = [];
      const zero = KeyRing.prototype.zero;
      KeyRing.prototype.zero = function (this: KeyRing) {
        rings.push(this);
        zero.call(this);
      };
      try {
        const manager = await createSessionManager({
          storageType: 'cache',
          encryptionKey: key,
          previousKeys: [previous],
          cleanupInterval: 0,
          crypto: { mode, threads: 1 },
        });
        await manager.create({ appendSetCookie: () => {} });
        assert.ok(!allZero(manager.config.encryptionKey));
        await manager.close();
        assert.ok(allZero(manager.config.encryptionKey), 'config.encryptionKey zeroed');
        assert.ok(allZero(manager.config.previousKeys[0]!), 'config.previousKeys[0] zeroed');
        assert.equal(rings.length, 1, 'close() zeroed the manager\'s KeyRing');
        for (const entry of rings[0]!.entries) for (const subkey of subkeys(entry)) assert.ok(allZero(subkey));
        assert.ok(key.equals(keyCopy), "the caller's key is the caller's: untouched");
        assert.ok(!allZero(previous));
        await manager.close();
      } finally {
        KeyRing.prototype.zero = zero;
      }
    });
  }
});
