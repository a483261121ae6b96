/**
 * Issue 12 asks what the record-version check adds to a cache hit: the
 * cookie carries the version its client has seen, and a node whose cached
 * copy is older reads through. To measure it, the stores case builds a
 * second `cache` manager with the check switched off and times
 * getSessionFromCookie on both, interleaved.
 *
 * The engine has no public switch for this (it is a correctness feature), so
 * this file is the one place that says how to turn it off:
 *
 * - VERSION_CHECK_OFF: the SessionConfig overrides that disable the check,
 *   merged into the bench manager's config. null means "no switch known",
 *   and the row is reported as not measured, with that reason.
 * - BENCH_VERSION_CHECK_OFF='<JSON of the same overrides>' in the
 *   environment replaces it for one run, without editing this file.
 *
 * If the switch is not a config option (say, a test hook), replace the body
 * of versionCheckOff() with whatever builds that manager's overrides: the
 * stores case only calls it.
 */
import type { SessionConfig } from '../../src/index.ts';

export const VERSION_CHECK_OFF: Partial<SessionConfig> | null = null;

export type VersionCheckSwitch = { readonly ok: true; readonly overrides: Partial<SessionConfig>; readonly source: string } | { readonly ok: false; readonly reason: string };

export function versionCheckOff(env: NodeJS.ProcessEnv = process.env): VersionCheckSwitch {
  const given = env.BENCH_VERSION_CHECK_OFF;
  if (given) {
    try {
      const overrides = JSON.parse(given) as unknown;
      if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) throw new Error('not a JSON object');
      return { ok: true, overrides: overrides as Partial<SessionConfig>, source: `BENCH_VERSION_CHECK_OFF=${given}` };
    } catch (error) {
      return { ok: false, reason: `BENCH_VERSION_CHECK_OFF must be a JSON object of SessionConfig overrides: ${(error as Error).message}` };
    }
  }
  if (VERSION_CHECK_OFF) return { ok: true, overrides: VERSION_CHECK_OFF, source: `VERSION_CHECK_OFF in bench/lib/version-check.ts: ${JSON.stringify(VERSION_CHECK_OFF)}` };
  return {
    ok: false,
    reason:
      'the cache store has no version check to switch off (one process holds every version); the check is one comparison in the tier in front of a persistent store, ' +
      'measured there by `node --import tsx scripts/measure-version-check.ts` (the sync hit path with and without it, interleaved). ' +
      'A switch for this row goes in VERSION_CHECK_OFF in bench/lib/version-check.ts, or BENCH_VERSION_CHECK_OFF for one run',
  };
}
