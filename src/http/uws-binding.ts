/**
 * Loads uWebSockets.js for the uWS adapter, or stops the import of
 * `rockstar-session/uws` with an error that says how to install it.
 *
 * uWebSockets.js is an optional peer dependency: only this adapter needs it,
 * so the engine and `rockstar-session/node` install without it. uws.ts
 * imports its types only, which the compiler erases; without this module an
 * application that forgot to install uWS would fail later, far from the
 * cause. Its authors publish it as GitHub release tags, not on npm.
 *
 * Loaded with require() from this file's own location, so it resolves the
 * copy the application installed beside rockstar-session, as a peer should.
 */
import { createRequire } from 'node:module';

export const UWS_PACKAGE = 'uWebSockets.js';
/** The install command the error names (a release tag of uWS's authors; any later tag works the same way). */
export const UWS_INSTALL_COMMAND = 'npm install uNetworking/uWebSockets.js#v20.52.0';

type Resolver = Pick<NodeJS.Require, 'resolve'> & ((id: string) => unknown);

/** An error with Node's own code for a module that cannot be found or loaded, so `error.code` checks written for imports keep working. */
function loadError(message: string, code: string, cause: unknown): Error {
  return Object.assign(new Error(message, { cause }), { code });
}

/**
 * The uWebSockets.js module, loaded through `require` (the default resolves
 * from this file). Throws ERR_MODULE_NOT_FOUND naming the install command
 * when it is not installed, and ERR_DLOPEN_FAILED with uWS's own reason when
 * it is installed but its native binary does not load (another Node ABI, an
 * older glibc).
 */
export function loadUwsBinding(require: Resolver = createRequire(import.meta.url)): unknown {
  let entry: string;
  try {
    entry = require.resolve(UWS_PACKAGE);
  } catch (error) {
    throw loadError(
      `rockstar-session/uws needs ${UWS_PACKAGE}, which is not installed. It is an optional peer dependency ` +
        `(only this adapter uses it). Install it from its authors' GitHub releases: ${UWS_INSTALL_COMMAND} ` +
        `(or a later tag listed at https://github.com/uNetworking/uWebSockets.js/releases). ` +
        `Without uWS, use rockstar-session/node (node:http, Express).`,
      'ERR_MODULE_NOT_FOUND',
      error,
    );
  }
  try {
    return require(entry);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw loadError(
      `rockstar-session/uws: ${UWS_PACKAGE} is installed (${entry}) but did not load on Node ${process.version} ` +
        `(${process.platform}-${process.arch}, ABI ${process.versions.modules}): ${reason}`,
      'ERR_DLOPEN_FAILED',
      error,
    );
  }
}

loadUwsBinding();
