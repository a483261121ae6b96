/**
 * The report writer's promises: the native-bench section survives a rewrite
 * byte for byte, ratios are paired run by run and oriented, goals are judged
 * on the median and flagged when runs straddle them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateGoals, nativeBenchGoals } from '../goals.ts';
import type { Conditions } from '../lib/conditions.ts';
import { ratioOf } from '../lib/ratios.ts';
import type { FamilyResult, Measurement } from '../lib/results.ts';
import { NATIVE_END, NATIVE_START, nativeSection, writeReport } from '../report.ts';

function measurement(id: string, values: number[], higherIsBetter = true): Measurement {
  return { id, label: id, group: 'g', ours: id.includes('ours'), unit: higherIsBetter ? 'ops/s' : 'µs/op', values, higherIsBetter };
}

const conditions: Conditions = {
  date: '2026-01-01T00:00:00.000Z',
  commit: 'abc',
  dirty: false,
  machine: 'linux',
  cpu: 'cpu',
  cores: 2,
  memory: '1 GiB',
  node: 'v20',
  quick: true,
  loadAtStart: 0.5,
  versions: {},
};

test('a rewrite keeps the native-bench section byte for byte and replaces everything else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  const path = join(dir, 'BENCHMARKS.md');
  const native = `${NATIVE_START}\n## native\n| a | b |\n|---|---|\n| 1 | 2 |\n  trailing spaces  \n${NATIVE_END}`;
  writeFileSync(path, `# old title\nold engine text\n\n${native}\n\nold text after\n`);
  const family: FamilyResult = { family: 'codec', conditions: {}, measurements: [measurement('codec.record.ours', [2, 2, 2])], notRun: [], notes: [] };
  writeReport(path, { conditions, families: [family], failedFamilies: [], goals: [], chartPath: null, elapsedSeconds: 1, nativeBench: 'x' });
  const written = readFileSync(path, 'utf8');
  assert.ok(written.includes(native), 'native block kept exactly');
  assert.ok(!written.includes('old engine text') && !written.includes('old text after'), 'our old text replaced');
  assert.equal(written.split(NATIVE_START).length, 2, 'one native block');
});

test('a file without markers gets an empty native block that native-bench can fill later', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  const section = nativeSection(join(dir, 'missing.md'));
  assert.ok(section.startsWith(NATIVE_START) && section.endsWith(NATIVE_END));
});

test('ratios pair run k with run k and turn costs around so above 1 always means better', () => {
  const fast = measurement('a', [300, 100, 200]);
  const slow = measurement('b', [100, 100, 100]);
  assert.deepEqual(ratioOf(fast, slow), { median: 2, min: 1, max: 3 });
  const cheap = measurement('c', [1, 2], false);
  const dear = measurement('d', [4, 4], false);
  assert.deepEqual(ratioOf(cheap, dear), { median: 3, min: 2, max: 4 });
});

test('goals: met on the median, not firm when runs straddle, not measured with the reason', () => {
  const family: FamilyResult = {
    family: 'stores',
    conditions: {},
    measurements: [
      measurement('stores.filesystem.write.ours', [120, 80, 110]),
      measurement('stores.filesystem.write.peer', [10, 10, 10]),
      measurement('stores.database.cycle.ours', [40, 40, 40]),
      measurement('stores.database.cycle.peer', [10, 10, 10]),
    ],
    notRun: [{ id: 'stores.database.hit.ours', label: 'x', group: 'g', reason: 'mariadbd is not installed' }],
    notes: [],
  };
  const goals = evaluateGoals([family]);
  const fsWrite = goals.find((g) => g.goal.startsWith('filesystem'))!;
  assert.equal(fsWrite.status, 'met');
  assert.equal(fsWrite.firm, false, '8× in one run, 12× in another: not firm');
  const dbCycle = goals.find((g) => g.goal.includes('load + save cycle'))!;
  assert.equal(dbCycle.status, 'met');
  assert.equal(dbCycle.firm, true);
  const dbHit = goals.find((g) => g.goal.includes('cache hit'))!;
  assert.equal(dbHit.status, 'not measured');
  assert.equal(dbHit.detail, 'mariadbd is not installed');
});

test("native-bench's acceptance table becomes issue 3 goal rows", () => {
  const section = [
    '### Acceptance (issue 3)',
    '',
    '| criterion | measured |  |',
    '| :--- | ---: | ---: |',
    '| pool: main CPU per op ≥ 3× less than inline | 2.28× | NOT met |',
    '| auto within 5% of inline | 1.9% | met |',
    '',
    '### next',
  ].join('\n');
  const goals = nativeBenchGoals(section);
  assert.deepEqual(
    goals.map((g) => [g.status, g.detail]),
    [
      ['not met', '2.28× (native-bench section below)'],
      ['met', '1.9% (native-bench section below)'],
    ],
  );
  assert.equal(nativeBenchGoals('no table here')[0]!.status, 'not measured');
});
