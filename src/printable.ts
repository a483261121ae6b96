/**
 * What a SessionManager shows when printed: util.inspect / console.log
 * ([util.inspect.custom]), JSON.stringify (toJSON) and String() (toString).
 * The storage type, the store and the cookie name: enough to tell managers
 * apart in a log, and never a key, a password or a database URI.
 */
import { inspect } from 'node:util';
import type { ResolvedConfig } from './config.ts';

/** Symbol.for('nodejs.util.inspect.custom'): the manager's class uses it as a method name. */
export const INSPECT: typeof inspect.custom = inspect.custom; // util's unique symbol: as a plain `symbol`, the emitted .d.ts fails TypeScript 5.0 (TS1166)

export interface ManagerSummary {
  readonly storageType: ResolvedConfig['storageType'];
  /** The store's own name, e.g. 'cache', 'cached(database)'. */
  readonly store: string;
  readonly cookieName: string;
  readonly closed: boolean;
}

export function managerSummary(config: ResolvedConfig, store: { readonly name: string }, closed: boolean): ManagerSummary {
  return { storageType: config.storageType, store: String(store.name), cookieName: config.cookieName, closed };
}

/** "SessionManager { storageType: 'cache', store: 'cache', cookieName: 'rockstar_session', closed: false }" */
export function describeManager(summary: ManagerSummary): string {
  return `SessionManager ${inspect(summary, { depth: 0, colors: false, breakLength: Infinity })}`;
}
