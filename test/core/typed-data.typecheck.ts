/**
 * Typed session data, proven by the compiler: `npm test` type-checks this
 * file (tsc --noEmit over test/), and every `@ts-expect-error` below fails
 * the build if the mistake it marks stops being an error. Nothing here runs.
 * (Declaration merging of SessionData is proven by the packaging test, in a
 * consumer project of its own: an augmentation here would retype every test.)
 */
import { createSessionManager, type Session, type SessionManager } from '../../src/index.ts';

interface AppData {
  user_id: string;
  cart: string[];
  visits: number;
}

export async function typedConsumer(): Promise<void> {
  const sessions: SessionManager<AppData> = await createSessionManager<AppData>({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const ctx = { appendSetCookie: (_value: string) => {} };
  const session: Session<AppData> = await sessions.create(ctx);

  const cart: string[] | undefined = session.data.cart; // keys are optional: a session starts empty
  session.data.visits = (session.data.visits ?? 0) + 1;
  // @ts-expect-error an unknown key
  session.data.crt = ['sku-1'];
  // @ts-expect-error a value of the wrong type
  session.data.visits = 'many';

  const userId: string = await sessions.get(session.id, 'user_id');
  // @ts-expect-error get of an unknown key
  await sessions.get(session.id, 'userid');
  await sessions.set(session.id, 'cart', ['sku-1'], ctx);
  // @ts-expect-error set with a value of the wrong type
  await sessions.set(session.id, 'cart', 'sku-1');
  const next = await sessions.update(session.id, 'cart', (current) => [...(current ?? []), 'sku-2']);
  // @ts-expect-error update's fn is typed from the key: a number is not a string[]
  await sessions.update(session.id, 'cart', (current) => (current?.length ?? 0) + 1);
  await sessions.delete(session.id, 'visits');
  // @ts-expect-error delete of an unknown key
  await sessions.delete(session.id, 'vists');
  void [cart, userId, next];
}

export async function untypedConsumer(): Promise<void> {
  // Without a type argument (and without augmenting SessionData) data is Record<string, unknown>.
  const sessions = await createSessionManager({ storageType: 'cache', encryptionKey: new Uint8Array(32) });
  const session = await sessions.create({ appendSetCookie: () => {} });
  session.data.anything = { nested: [1, 2n, new Date()] };
  const value: unknown = await sessions.get(session.id, 'anything');
  void value;
}
