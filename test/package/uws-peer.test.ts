/**
 * The guard in front of rockstar-session/uws (src/http/uws-binding.ts), given
 * stand-in resolvers: a missing peer and a peer whose native binary does not
 * load each give an error that names the cause and what to do. (The packed
 * package's real import without uWS is in packed-package.test.ts.)
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadUwsBinding, UWS_INSTALL_COMMAND } from '../../src/http/uws-binding.ts';

type Resolver = Parameters<typeof loadUwsBinding>[0];

function resolver(resolve: (id: string) => string, load: (path: string) => unknown): NonNullable<Resolver> {
  return Object.assign((path: string) => load(path), { resolve: Object.assign(resolve, { paths: () => null }) }) as unknown as NonNullable<Resolver>;
}

const notFound = (id: string): never => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
};

it('a missing uWebSockets.js is ERR_MODULE_NOT_FOUND naming the install command and the node adapter', () => {
  const error = (() => {
    try {
      loadUwsBinding(resolver(notFound, () => assert.fail('nothing to load')));
    } catch (caught) {
      return caught as Error & { code?: string; cause?: unknown };
    }
    return assert.fail('loadUwsBinding must throw');
  })();
  assert.equal(error.code, 'ERR_MODULE_NOT_FOUND');
  assert.ok(error.message.includes(UWS_INSTALL_COMMAND), error.message);
  assert.match(UWS_INSTALL_COMMAND, /^npm install uNetworking\/uWebSockets\.js#v\d+\.\d+\.\d+$/);
  assert.match(error.message, /optional peer dependency/);
  assert.match(error.message, /rockstar-session\/node/);
  assert.match(String((error.cause as Error).message), /Cannot find module 'uWebSockets\.js'/, 'the resolver failure is the cause');
});

it('an installed uWebSockets.js whose binary does not load is ERR_DLOPEN_FAILED with its own reason', () => {
  const reason = "This version of uWS.js supports only Node.js versions 20, 22 and 24.\n\nError: Cannot find module './uws_linux_x64_999.node'";
  const entry = '/app/node_modules/uWebSockets.js/uws.js';
  assert.throws(
    () =>
      loadUwsBinding(
        resolver(
          () => entry,
          () => {
            throw new Error(reason);
          },
        ),
      ),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_DLOPEN_FAILED');
      assert.ok(error.message.includes(entry), 'names where it is installed');
      assert.ok(error.message.includes(reason), "keeps uWS's own explanation");
      assert.ok(error.message.includes(process.version) && error.message.includes(`ABI ${process.versions.modules}`), 'names this Node and its ABI');
      return true;
    },
  );
});

it('returns the module the resolver loads', () => {
  const binding = { App: () => null };
  assert.equal(loadUwsBinding(resolver(() => '/x/uws.js', () => binding)), binding);
});
