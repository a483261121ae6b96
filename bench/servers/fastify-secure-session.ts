/** fastify + @fastify/secure-session: the whole session sealed into the cookie (stateless); login, profile and the cart. */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import fastifySecureSession from '@fastify/secure-session';
import { addToCart, type ProductId } from './cart.ts';
import { announce, DEMO_PASSWORD } from './listening.ts';

declare module '@fastify/secure-session' {
  interface SessionData {
    user_id: string;
    username: string;
    roles: string[];
    login_time: number;
    cart: ProductId[];
  }
}

const app = Fastify({ logger: false });
await app.register(fastifySecureSession, { key: randomBytes(32), cookie: { path: '/', httpOnly: true, secure: false, sameSite: 'lax' } });

app.post('/login', async (request, reply) => {
  const { username, password } = (request.body ?? {}) as { username?: string; password?: string };
  if (typeof username !== 'string' || password !== DEMO_PASSWORD) return reply.code(401).send({ error: 'invalid credentials' });
  request.session.regenerate();
  request.session.set('user_id', `u-${username}`);
  request.session.set('username', username);
  request.session.set('roles', ['user', 'editor']);
  request.session.set('login_time', Date.now());
  return { ok: true };
});

app.get('/profile', async (request, reply) => {
  const userId = request.session.get('user_id');
  if (!userId) return reply.code(401).send({ error: 'not logged in' });
  return { user_id: userId, username: request.session.get('username'), login_time: request.session.get('login_time') };
});

// The cart lives in the cookie too: every change re-seals the whole session into a new Set-Cookie.
app.post('/cart/items', async (request, reply) => {
  if (!request.session.get('user_id')) return reply.code(401).send({ error: 'not logged in' });
  const outcome = addToCart(request.session.get('cart'), request.body);
  if (outcome.status !== 200) return reply.code(outcome.status).send({ error: outcome.error });
  request.session.set('cart', outcome.items);
  return { items: outcome.items };
});

app.delete('/cart', async (request, reply) => {
  if (!request.session.get('user_id')) return reply.code(401).send({ error: 'not logged in' });
  request.session.set('cart', undefined);
  return { items: [] };
});

await app.listen({ host: '127.0.0.1', port: 0 });
announce((app.server.address() as { port: number }).port);
