/**
 * How the report shows the HTTP comparisons and the new goal rows: shares
 * of both ceilings, ceilings kept out of the ours ÷ peer table, latency
 * medians per row, "reported" as its own verdict, a script's verbatim
 * output kept as a code block.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Conditions } from '../lib/conditions.ts';
import type { FamilyResult, Measurement } from '../lib/results.ts';
import { renderReport } from '../report.ts';

const conditions: Conditions = { date: 'd', commit: 'c', dirty: false, machine: 'm', cpu: 'cpu', cores: 2, memory: '1 GiB', node: 'v20', quick: true, loadAtStart: 0, versions: {} };
const group = 'read: GET /profile with a valid cookie';

function read(id: string, values: number[], ours = false): Measurement {
  return { id: `http.read.${id}`, label: id, group, ours, unit: 'req/s', values, extra: { p50: [1, 2, 3], p99: [5, 9, 7] }, higherIsBetter: true };
}

function render(families: FamilyResult[], goals: Parameters<typeof renderReport>[0]['goals'] = []): string {
  return renderReport({ conditions, families, failedFamilies: [], goals, chartPath: null, elapsedSeconds: 1, nativeBench: 'x' }, '<native>');
}

test('HTTP tables: a share list per ceiling, ceilings out of the ratio table, latency medians in each row', () => {
  const http: FamilyResult = {
    family: 'http',
    conditions: {},
    measurements: [
      read('uws-json', [100, 100, 100]),
      read('uws-hello', [200, 200, 200]),
      read('ours-uws', [80, 80, 80], true),
      read('ours-node', [40, 40, 40], true),
      read('fastify-secure-session', [40, 40, 40]),
      read('fastify-session', [20, 20, 20]),
      read('express-session', [10, 10, 10]),
    ],
    notRun: [],
    notes: [],
  };
  const text = render([http]);
  assert.match(text, /Share of uws-json \(each contender ÷ it, paired run by run\):\n\n- uws-hello: 2\.00×\n- ours-uws: 0\.80×/);
  assert.match(text, /Share of uws-hello \(each contender ÷ it/);
  assert.match(text, /\| ours \(row\) ÷ other \(column\) \| fastify-secure-session \| fastify-session \| express-session \|/);
  assert.match(text, /\| ours-uws \| 2\.00× \| 4\.00× \| 8\.00× \|/);
  assert.match(text, /latency p50 2\.00 ms, p99 7\.00 ms \(medians\), p99 9\.00 ms worst run/);
});

test('goal rows: reported is its own verdict; a fenced note stays a code block', () => {
  const galera: FamilyResult = { family: 'galera', conditions: {}, measurements: [], notRun: [], notes: ['```\nnode 1 up\n```', 'plain note'] };
  const text = render([galera], [{ issue: 12, goal: 'cookie size', status: 'reported', detail: 'token 119' }]);
  assert.match(text, /\| 12 \| cookie size \| reported \| token 119 \|/);
  assert.match(text, /\n```\nnode 1 up\n```\n/);
  assert.match(text, /- plain note/);
});
