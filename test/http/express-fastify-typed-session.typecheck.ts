/**
 * Typed sessions in Express and Fastify, proven by the compiler: `npm test`
 * type-checks this file (tsc --noEmit over test/), and every
 * `@ts-expect-error` below fails the build if the mistake it marks stops
 * being an error. Nothing here runs.
 *
 * `req.session` / `request.session` are RequestSession<DefaultSessionData>:
 * typed by the augmentable SessionData interface, like every manager
 * without a type argument (augmenting it here would retype every test; the
 * packaging test does that in a project of its own). An application typed
 * by a type argument names its RequestSession<AppData>.
 */
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { sessionMiddleware, type RequestSession } from '../../src/http/express.ts';
import { sessionPlugin } from '../../src/http/fastify.ts';
import { createSessionManager, type DefaultSessionData } from '../../src/index.ts';

interface AppData {
  user_id: string;
  cart: string[];
  visits: number;
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

export async function expressTyped(): Promise<void> {
  const sessions = await createSessionManager<AppData>({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const app = express();
  app.use(sessionMiddleware(sessions)); // a typed manager mounts like any other
  app.get('/', async (req, res) => {
    // req.session follows SessionData (here not augmented: Record<string, unknown>).
    assertType<Equal<typeof req.session, RequestSession<DefaultSessionData>>>();
    const session = req.session as unknown as RequestSession<AppData>;
    const cart: string[] | undefined = session.data.cart; // every key optional: a session starts empty
    session.data.visits = (session.data.visits ?? 0) + 1;
    // @ts-expect-error an unknown key
    session.data.crt = ['sku-1'];
    // @ts-expect-error a value of the wrong type
    session.data.visits = 'many';
    const items = await session.update('cart', (current) => [...(current ?? []), 'sku-2']);
    // @ts-expect-error update's fn is typed from the key
    await session.update('cart', (current) => (current?.length ?? 0) + 1);
    // @ts-expect-error update of an unknown key
    await session.update('cartt', () => undefined);
    const id: string | null = session.id;
    // @ts-expect-error the id is null until the session is stored
    const storedId: string = session.id;
    // @ts-expect-error userId is a string or null
    session.userId = 42;
    await session.save();
    await session.regenerate();
    await session.reload();
    await session.touch();
    await session.destroy();
    res.json({ cart, items, id, storedId });
  });
  // Express 4 takes the same middleware.
  express4().use(sessionMiddleware(sessions));
  // @ts-expect-error the middleware needs a manager
  sessionMiddleware({});
  // @ts-expect-error options are typed
  sessionMiddleware(sessions, { rolling: 'yes' });
}

export async function fastifyTyped(): Promise<void> {
  const sessions = await createSessionManager<AppData>({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const app = Fastify();
  await app.register(sessionPlugin, { manager: sessions, rolling: false, onError: (error, request) => void [error, request.method, request.path] });
  app.get('/', async (request) => {
    assertType<Equal<typeof request.session, RequestSession<DefaultSessionData>>>();
    const session = request.session as unknown as RequestSession<AppData>;
    // @ts-expect-error an unknown key
    session.data.crt = [];
    // @ts-expect-error a value of the wrong type
    session.data.cart = 'sku-1';
    const modified: boolean = session.isModified();
    return { visits: session.data.visits, modified };
  });
  // @ts-expect-error the plugin needs its manager
  await app.register(sessionPlugin, {});
}
