/** fastify + @fastify/session (its default in-memory store) + @fastify/cookie: login, profile and the cart. */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { addToCart, type ProductId } from './cart.ts';
import { announce, DEMO_PASSWORD } from './listening.ts';

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: randomBytes(32).toString('base64'),
  saveUninitialized: false,
  cookie: { path: '/', httpOnly: true, secure: false, sameSite: 'lax' },
});

interface LoginSession {
  user_id?: string;
  username?: string;
  roles?: string[];
  login_time?: number;
  cart?: ProductId[];
}

app.post('/login', async (request, reply) => {
  const { username, password } = (request.body ?? {}) as { username?: string; password?: string };
  if (typeof username !== 'string' || password !== DEMO_PASSWORD) return reply.code(401).send({ error: 'invalid credentials' });
  await request.session.regenerate();
  const session = request.session as unknown as LoginSession;
  session.user_id = `u-${username}`;
  session.username = username;
  session.roles = ['user', 'editor'];
  session.login_time = Date.now();
  return { ok: true };
});

app.get('/profile', async (request, reply) => {
  const session = request.session as unknown as LoginSession;
  if (!session.user_id) return reply.code(401).send({ error: 'not logged in' });
  return { user_id: session.user_id, username: session.username, login_time: session.login_time };
});

// The cart: @fastify/session saves the session after the handler when its contents changed (saveUninitialized: false).
app.post('/cart/items', async (request, reply) => {
  const session = request.session as unknown as LoginSession;
  if (!session.user_id) return reply.code(401).send({ error: 'not logged in' });
  const outcome = addToCart(session.cart, request.body);
  if (outcome.status !== 200) return reply.code(outcome.status).send({ error: outcome.error });
  session.cart = outcome.items;
  return { items: outcome.items };
});

app.delete('/cart', async (request, reply) => {
  const session = request.session as unknown as LoginSession;
  if (!session.user_id) return reply.code(401).send({ error: 'not logged in' });
  delete session.cart;
  return { items: [] };
});

await app.listen({ host: '127.0.0.1', port: 0 });
announce((app.server.address() as { port: number }).port);
