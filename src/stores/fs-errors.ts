/** How the filesystem store words a system failure, and turns it into the ERR_SESSION_STORE a caller gets. */
import { SessionError, SessionStoreError } from '../errors.ts';
import { errnoOf } from './fs-io.ts';

export function describeFailure(operation: string, error: unknown): string {
  const code = errnoOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'EMFILE' || code === 'ENFILE') {
    return `filesystem store ${operation} failed: too many open files (${code}); raise the file descriptor limit (ulimit -n) or lower concurrency: ${detail}`;
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') return `filesystem store ${operation} failed: no space left on the device (${code}); nothing was written: ${detail}`;
  return `filesystem store ${operation} failed: ${detail}`;
}

/** A SessionError passes through (it already says what went wrong); anything else becomes ERR_SESSION_STORE with it as cause. */
export function storeFailure(operation: string, error: unknown): SessionError {
  return error instanceof SessionError ? error : new SessionStoreError(describeFailure(operation, error), { cause: error });
}

export function defaultOnError(error: Error): void {
  process.emitWarning(error, { code: 'ROCKSTAR_SESSION_STORE' } as never);
}
