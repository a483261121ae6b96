/** fastify + @fastify/session (its default in-memory store) + @fastify/cookie. */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
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

await app.listen({ host: '127.0.0.1', port: 0 });
announce((app.server.address() as { port: number }).port);
