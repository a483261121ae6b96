/**
 * fastify + rockstar-session/fastify (our plugin) on the cache store: the same routes and
 * session contents as fastify-session.ts and fastify-secure-session.ts, in our plugin's idiom.
 * POST /cart/items (one extra route, for a cart-write mix) appends to the session's cart
 * by plain assignment, saved by the plugin.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { addToCart } from './cart.ts';
import { sessionPlugin, type RequestSession } from '../../src/http/fastify.ts';
import { createSessionManager } from '../../src/index.ts';
import { announce, DEMO_PASSWORD } from './listening.ts';

const manager = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cookieSecure: false, cookieSameSite: 'Lax' });

// The bench compiles @fastify/session's servers in the same program, and both plugins declare request.session.
const sessionOf = (request: { session: unknown }): RequestSession => request.session as RequestSession;

const app = Fastify({ logger: false });
await app.register(sessionPlugin, { manager });

app.post('/login', async (request, reply) => {
  const { username, password } = (request.body ?? {}) as { username?: string; password?: string };
  if (typeof username !== 'string' || password !== DEMO_PASSWORD) return reply.code(401).send({ error: 'invalid credentials' });
  const session = sessionOf(request);
  await session.regenerate();
  Object.assign(session.data, { user_id: `u-${username}`, username, roles: ['user', 'editor'], login_time: Date.now() });
  return { ok: true };
});

app.get('/profile', async (request, reply) => {
  const { user_id, username, login_time } = sessionOf(request).data;
  if (!user_id) return reply.code(401).send({ error: 'not logged in' });
  return { user_id, username, login_time };
});

app.post('/cart/items', async (request, reply) => {
  const session = sessionOf(request);
  if (!session.data.user_id) return reply.code(401).send({ error: 'not logged in' });
  const outcome = addToCart(session.data.cart, request.body);
  if (outcome.status !== 200) return reply.code(outcome.status).send({ error: outcome.error });
  session.data.cart = outcome.items;
  return { items: outcome.items };
});

app.delete('/cart', async (request, reply) => {
  const session = sessionOf(request);
  if (!session.data.user_id) return reply.code(401).send({ error: 'not logged in' });
  delete session.data.cart;
  return { items: [] };
});

await app.listen({ host: '127.0.0.1', port: 0 });
announce((app.server.address() as { port: number }).port);
