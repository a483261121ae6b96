/** The `filesystem` options: each rejected value names the option; unknown names are refused; defaults. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSessionManager, SessionConfigError } from '../../src/index.ts';
import { validateFilesystemOptions } from '../../src/stores/fs-options.ts';

const base = { storageType: 'filesystem' as const, encryptionKey: Buffer.alloc(32, 7), filesystemPath: '/nonexistent/never-created' };

/** [what is wrong, filesystem option, words the message must contain] */
const invalid: Array<[string, unknown, string[]]> = [
  ['options that are not an object', 'fast', ['filesystem', 'object']],
  ['a non-boolean allowGroupWrite', { allowGroupWrite: 'yes' }, ['filesystem.allowGroupWrite', 'boolean', '"yes"']],
  ['a negative quarantineMaxFiles', { quarantineMaxFiles: -1 }, ['filesystem.quarantineMaxFiles', 'non-negative integer', '-1']],
  ['a fractional quarantineMaxFiles', { quarantineMaxFiles: 1.5 }, ['filesystem.quarantineMaxFiles', '1.5']],
  ['an unbounded quarantineMaxFiles', { quarantineMaxFiles: Infinity }, ['filesystem.quarantineMaxFiles', 'Infinity']],
  ['a negative quarantineMaxAgeMs', { quarantineMaxAgeMs: -5 }, ['filesystem.quarantineMaxAgeMs', '-5']],
  ['a quarantineMaxAgeMs given as text', { quarantineMaxAgeMs: '7d' }, ['filesystem.quarantineMaxAgeMs', '"7d"']],
  ['an unknown option (a typo)', { allowGroupWrites: true }, ['unknown option filesystem.allowGroupWrites', 'did you mean filesystem.allowGroupWrite?']],
  ['an unknown option (far from any)', { mode: 0o700 }, ['unknown option filesystem.mode', 'filesystem options are: fsync, allowGroupWrite, quarantineMaxFiles, quarantineMaxAgeMs']],
];

describe('createSessionManager rejects each invalid filesystem option with ERR_SESSION_CONFIG naming it, before touching the disk', () => {
  for (const [what, filesystem, words] of invalid) {
    it(`rejects ${what}`, async () => {
      await assert.rejects(createSessionManager({ ...base, filesystem } as never), (error: unknown) => {
        assert.ok(error instanceof SessionConfigError, `expected SessionConfigError, got ${error}`);
        for (const word of words) assert.ok(error.message.includes(word), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(word)}`);
        return true;
      });
    });
  }
});

it('defaults to fsync on, no group write, 1000 quarantined files for at most 7 days', () => {
  assert.deepEqual(validateFilesystemOptions(undefined), { fsync: true, allowGroupWrite: false, quarantineMaxFiles: 1000, quarantineMaxAgeMs: 7 * 24 * 3600_000 });
  assert.deepEqual(validateFilesystemOptions({ allowGroupWrite: true, quarantineMaxFiles: 0, quarantineMaxAgeMs: 0, fsync: false }), {
    fsync: false,
    allowGroupWrite: true,
    quarantineMaxFiles: 0,
    quarantineMaxAgeMs: 0,
  });
});
