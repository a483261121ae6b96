/**
 * Issues 10, 11 and 12's goal rows: each is judged on the measurement it
 * names, reported rows carry the figure, and a missing measurement is
 * "not measured" with the reason the case gave.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateGoals, type GoalOutcome } from '../goals.ts';
import type { FamilyResult, Measurement } from '../lib/results.ts';

function m(id: string, values: number[], extra?: Record<string, number[]>, unit: Measurement['unit'] = 'req/s'): Measurement {
  return { id, label: id, group: 'g', ours: id.includes('ours'), unit, values, higherIsBetter: unit !== 'bytes', ...(extra ? { extra } : {}) };
}

function family(name: string, measurements: Measurement[], notRun: FamilyResult['notRun'] = []): FamilyResult {
  return { family: name, conditions: {}, measurements, notRun, notes: [] };
}

function goal(outcomes: GoalOutcome[], starts: string): GoalOutcome {
  const found = outcomes.find((g) => g.goal.startsWith(starts));
  assert.ok(found, `a goal starting with ${JSON.stringify(starts)}`);
  return found;
}

test("the /profile ceiling goal divides by the same-JSON ceiling, and hello world is reported beside it", () => {
  const goals = evaluateGoals([
    family('http', [m('http.read.ours-uws', [90, 88, 92]), m('http.read.uws-json', [100, 100, 100]), m('http.read.uws-hello', [200, 200, 200])]),
  ]);
  const ceiling = goal(goals, 'uWS GET /profile ≥ 85%');
  assert.equal(ceiling.status, 'met');
  assert.equal(ceiling.firm, true);
  assert.match(ceiling.detail, /same-JSON ceiling = 0\.90×/);
  const hello = goal(goals, 'uWS GET /profile against uWS hello world');
  assert.equal(hello.status, 'reported');
  assert.match(hello.detail, /hello world = 0\.45×/);
});

test('the peers goals: 2.5× fastify + @fastify/secure-session and 12× express + express-session, same run', () => {
  const goals = evaluateGoals([
    family('http', [m('http.read.ours-uws', [100, 100, 100]), m('http.read.fastify-secure-session', [50, 50, 50]), m('http.read.express-session', [8, 8, 8])]),
  ]);
  assert.equal(goal(goals, 'uWS GET /profile ≥ 2.5×').status, 'not met');
  assert.equal(goal(goals, 'uWS GET /profile ≥ 12×').status, 'met');
});

test('cache store goals: hot reads against 1.5×, cycles against 1×', () => {
  const goals = evaluateGoals([
    family('stores', [
      m('stores.cache.hit.ours', [150, 160, 140], undefined, 'ops/s'),
      m('stores.cache.hit.peer', [100, 100, 100], undefined, 'ops/s'),
      m('stores.cache.cycle.ours', [90, 95, 99], undefined, 'ops/s'),
      m('stores.cache.cycle.peer', [100, 100, 100], undefined, 'ops/s'),
    ]),
  ]);
  const hot = goal(goals, '`cache` store ≥ 1.5×');
  assert.equal(hot.status, 'met');
  assert.equal(hot.firm, false, '1.4× in one run');
  assert.equal(goal(goals, '`cache` store ≥ 1×').status, 'not met');
});

test('memory: ≤ 1 KiB per session at each count, and the engine estimate reported against the heap with the token count', () => {
  const goals = evaluateGoals([
    family(
      'memory',
      [
        m('memory.ours.100000', [900], { estimatePerSession: [450], tokens: [101_000], entries: [101_000] }, 'bytes'),
        m('memory.ours.1000000', [1100], undefined, 'bytes'),
      ],
    ),
  ]);
  const at100k = goal(goals, "memory: ≤ 1 KiB per cached session of the example's session at 100,000");
  assert.equal(at100k.status, 'met');
  assert.equal(at100k.detail, '900 B per session (goal 1024 B)');
  assert.equal(goal(goals, "memory: ≤ 1 KiB per cached session of the example's session at 1,000,000").status, 'not met');
  const estimate = goal(goals, "memory: the engine's own estimate");
  assert.equal(estimate.status, 'reported');
  assert.match(estimate.detail, /estimate 450 B per session, measured 900 B per session \(the estimate is 50% of it/);
  assert.match(estimate.detail, /101,000 verified tokens held for 101,000 cache entries/);
});

test('memory goals without a measurement say why', () => {
  const goals = evaluateGoals([family('memory', [], [{ id: 'memory.ours.1000000', label: 'x', group: 'g', reason: 'the fill ran out of memory' }])]);
  const at1m = goal(goals, "memory: ≤ 1 KiB per cached session of the example's session at 1,000,000");
  assert.equal(at1m.status, 'not measured');
  assert.equal(at1m.detail, 'the fill ran out of memory');
  assert.equal(goals.filter((g) => g.goal.startsWith("memory: the engine's own estimate")).length, 0, 'no estimate row without an estimate');
});

test('latency of /profile is reported as the medians of the runs, beside the ceiling', () => {
  const goals = evaluateGoals([
    family('http', [m('http.read.ours-uws', [1, 1, 1], { p50: [0.5, 0.7, 0.6], p99: [3, 9, 4] }), m('http.read.uws-json', [1, 1, 1], { p50: [0.2, 0.2, 0.2], p99: [1, 1, 1] })]),
  ]);
  const latency = goal(goals, 'latency p50 and p99');
  assert.equal(latency.status, 'reported');
  assert.equal(latency.detail, 'p50 0.60 ms, p99 4.00 ms (medians over runs); the same-JSON ceiling: p50 0.20 ms, p99 1.00 ms');
});

test("issue 11's framework pairs are reported for reads and cart writes, or not measured while a server is missing", () => {
  const goals = evaluateGoals([
    family(
      'http',
      [m('http.read.express-ours', [300, 300, 300]), m('http.read.express-session', [100, 100, 100]), m('http.cart.express-ours', [50, 50, 50]), m('http.cart.express-session', [100, 100, 100])],
      [{ id: 'http.read.fastify-ours', label: 'x', group: 'g', reason: 'bench/servers/fastify-ours.ts not in this tree yet' }],
    ),
  ]);
  const issue11 = goals.filter((g) => g.issue === 11);
  assert.equal(issue11.length, 8);
  const read = goal(issue11, 'express + our middleware against express + express-session (MemoryStore), GET /profile');
  assert.equal(read.status, 'reported');
  assert.match(read.detail, /= 3\.00×/);
  assert.match(goal(issue11, 'express + our middleware against express + express-session (MemoryStore), cart write').detail, /= 0\.50×/);
  assert.equal(goal(issue11, 'fastify + our plugin against fastify + @fastify/session, GET /profile').detail, 'bench/servers/fastify-ours.ts not in this tree yet');
});

test("issue 12: the cookie's size now and before the version, and the version check's cost with its sign", () => {
  const goals = evaluateGoals([
    family('http', [m('http.cookie.ours-uws', [222], { token: [119] }, 'bytes')]),
    family('stores', [m('stores.cache.cookie.ours', [100, 100, 100], undefined, 'ops/s'), m('stores.cache.cookie.ours-no-version-check', [102, 101, 99], undefined, 'ops/s')]),
  ]);
  assert.equal(goal(goals, "the cookie's size").detail, 'now: Set-Cookie value 222 characters, token 119; before: token 111 (recorded in issue 12), so the header was 214 (+8)');
  const check = goal(goals, 'the added cost of the record-version check');
  assert.equal(check.status, 'reported');
  assert.match(check.detail, /by \+1\.0% \(runs −1\.0% to \+2\.0%/);
});

test('issue 12: without a way to switch the check off, or without the Galera script, the rows say so', () => {
  const goals = evaluateGoals([
    family('stores', [m('stores.cache.cookie.ours', [100], undefined, 'ops/s')], [{ id: 'stores.cache.cookie.ours-no-version-check', label: 'x', group: 'g', reason: 'no way to switch the version check off is set' }]),
    family('galera', [], [{ id: 'galera.update.cluster', label: 'x', group: 'g', reason: 'scripts/measure-galera.ts is not in this tree yet' }]),
  ]);
  assert.equal(goal(goals, 'the added cost of the record-version check').detail, 'no way to switch the version check off is set');
  assert.equal(goal(goals, 'update throughput on a 3-node Galera cluster').detail, 'scripts/measure-galera.ts is not in this tree yet');
});

test("issue 6's superseded HTTP goals are gone; issue 5's cycle goal stays", () => {
  const goals = evaluateGoals([]);
  assert.equal(goals.filter((g) => g.issue === 6).length, 0);
  assert.ok(goals.some((g) => g.issue === 5 && g.goal.includes('load + save cycle')));
});
