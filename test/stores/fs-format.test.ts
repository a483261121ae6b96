/** The filesystem store's file format and names: round trips, and anything slightly off is "not a record". */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeHeader, decodeRecordFile, encodeRecordFile, HEADER_BYTES } from '../../src/stores/fs-format.ts';
import { compareVersions, filesOfKey, parseVersionSuffix, takenName, versionName } from '../../src/stores/fs-layout.ts';
import { randomKey, randomTag, recordWrite, T0 } from './contract.ts';

it('round-trips every header field and the sealed bytes', () => {
  const key = randomKey();
  const write = recordWrite({ expiresAt: T0 + 0.5, userTag: randomTag(), tenantTag: null });
  const file = encodeRecordFile(key, 7, 3, write);
  assert.equal(file.byteLength, HEADER_BYTES + write.sealed.byteLength);
  const decoded = decodeRecordFile(key, file)!;
  assert.equal(decoded.version, 7);
  assert.equal(decoded.touchSeq, 3);
  assert.equal(decoded.expiresAt, T0 + 0.5);
  assert.equal(decoded.userTag, write.userTag);
  assert.equal(decoded.tenantTag, null);
  assert.deepEqual(Buffer.from(decoded.sealed), Buffer.from(write.sealed));
  assert.equal(decodeHeader(key, file.subarray(0, HEADER_BYTES))!.sealedLength, write.sealed.byteLength);
});

it('refuses a file that is short, long, for another key, or has any byte changed', () => {
  const key = randomKey();
  const file = encodeRecordFile(key, 1, 0, recordWrite());
  assert.equal(decodeRecordFile(key, file.subarray(0, file.byteLength - 1)), null);
  assert.equal(decodeRecordFile(key, Buffer.concat([file, Buffer.from([0])])), null);
  assert.equal(decodeRecordFile(randomKey(), file), null);
  assert.equal(decodeRecordFile(key, Buffer.alloc(0)), null);
  for (const offset of [0, 4, 5, 9, 13, 20, 30, 50, 60, 90, 93, HEADER_BYTES, file.byteLength - 1]) {
    const changed = Buffer.from(file);
    changed[offset]! ^= 0x10;
    assert.equal(decodeRecordFile(key, changed), null, `byte ${offset} changed`);
  }
});

it('names versions so that the newest file of a key ranks first, and parses nothing else', () => {
  const key = randomKey();
  const names = [versionName(key, 2, 0), versionName(key, 1, 5), versionName(key, 2, 1), versionName(key, 10, 0), `${key}.dead`, `${randomKey()}.99.0`, '.tmp.x', `${key}.3`, `${key}.01.0`, `${key}.1.0~abc`];
  const files = filesOfKey(names, key);
  assert.equal(files.dead, true);
  assert.deepEqual(files.versions.map((f) => f.name), [versionName(key, 10, 0), versionName(key, 2, 1), versionName(key, 2, 0), versionName(key, 1, 5)]);
  const published = parseVersionSuffix(versionName(key, 4, 2), '.4.2')!;
  const taken = parseVersionSuffix(takenName(published), takenName(published).slice(64))!;
  assert.equal(taken.takenBy, process.pid);
  assert.ok(compareVersions(taken, published) > 0, 'a taken file outranks a re-published name of the same version');
  assert.equal(parseVersionSuffix('x', '.4294967296.0'), null);
});
