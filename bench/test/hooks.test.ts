/**
 * The harness's hooks for work other engineers finish: the switch that
 * turns the record-version check off (issue 12), the Galera script's result
 * line, and the config merge every bench manager goes through.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchResult } from '../cases/galera.ts';
import { mergeConfig } from '../lib/engine.ts';
import { versionCheckOff } from '../lib/version-check.ts';

test('the version-check switch: none set is a reason, a JSON object from the environment is the overrides, anything else is refused', () => {
  const none = versionCheckOff({});
  assert.equal(none.ok, false);
  assert.match((none as { reason: string }).reason, /VERSION_CHECK_OFF in bench\/lib\/version-check\.ts, or BENCH_VERSION_CHECK_OFF/);
  const given = versionCheckOff({ BENCH_VERSION_CHECK_OFF: '{"cache":{"versionCheck":false}}' });
  assert.deepEqual(given, { ok: true, overrides: { cache: { versionCheck: false } }, source: 'BENCH_VERSION_CHECK_OFF={"cache":{"versionCheck":false}}' });
  for (const bad of ['[1]', 'null', 'off', '"x"']) {
    const refused = versionCheckOff({ BENCH_VERSION_CHECK_OFF: bad });
    assert.equal(refused.ok, false, bad);
    assert.match((refused as { reason: string }).reason, /must be a JSON object/);
  }
});

test("overrides merge option groups one level deep, so a switch inside `cache` keeps the bench's cache.maxBytes", () => {
  const key = Buffer.alloc(32, 1);
  const merged = mergeConfig({ encryptionKey: key, cache: { maxBytes: 1024 }, crypto: { mode: 'inline' } }, { cache: { staleMs: 5 }, crypto: { mode: 'pool' } });
  assert.deepEqual(merged.cache, { maxBytes: 1024, staleMs: 5 });
  assert.deepEqual(merged.crypto, { mode: 'pool' });
  assert.equal(merged.encryptionKey, key, 'a Buffer is a value, not a group');
});

test("the Galera script's BENCH_RESULT line becomes measurements; a line that is not one is an error, none is null", () => {
  const line = 'BENCH_RESULT {"measurements":[{"id":"galera.update.single","values":[900,950]},{"id":"galera.update.cluster","label":"cluster","values":[400,420]}],"conditions":{"nodes":"3"}}';
  const parsed = parseBenchResult(`starting cluster\n${line}\ndone\n`);
  assert.deepEqual(parsed?.measurements.map((m) => [m.id, m.values]), [
    ['galera.update.single', [900, 950]],
    ['galera.update.cluster', [400, 420]],
  ]);
  assert.deepEqual(parsed?.conditions, { nodes: '3' });
  assert.equal(parseBenchResult('only prose\n'), null);
  assert.throws(() => parseBenchResult('BENCH_RESULT {"measurements":[{"id":"x","values":[]}]}'), /needs an id and positive values/);
  assert.throws(() => parseBenchResult('BENCH_RESULT {"rows":[]}'), /no measurements array/);
  assert.throws(() => parseBenchResult('BENCH_RESULT {oops'), SyntaxError);
});
