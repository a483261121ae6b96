/**
 * express 5 + rockstar-session/express (our middleware) on the cache store: the same
 * routes and session contents as express-session.ts, in our middleware's idiom.
 * POST /cart/items (one extra route, for a cart-write mix) appends to the session's cart
 * by plain assignment, saved by the middleware, as express-session users write it.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { sessionMiddleware } from '../../src/http/express.ts';
import { createSessionManager } from '../../src/index.ts';
import { addToCart } from './cart.ts';
import { announce, DEMO_PASSWORD } from './listening.ts';

const require = createRequire(import.meta.url);
const express = require('express');

/* eslint-disable @typescript-eslint/no-explicit-any -- express ships no types here; this file only wires routes. */
type Req = any;
type Res = any;

const manager = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cookieSecure: false, cookieSameSite: 'Lax' });

const app = express();
app.use(express.json());
app.use(sessionMiddleware(manager));

app.post('/login', async (req: Req, res: Res) => {
  const { username, password } = req.body ?? {};
  if (typeof username !== 'string' || password !== DEMO_PASSWORD) return res.status(401).json({ error: 'invalid credentials' });
  await req.session.regenerate();
  Object.assign(req.session.data, { user_id: `u-${username}`, username, roles: ['user', 'editor'], login_time: Date.now() });
  res.json({ ok: true });
});

app.get('/profile', (req: Req, res: Res) => {
  const { user_id, username, login_time } = req.session.data;
  if (!user_id) return res.status(401).json({ error: 'not logged in' });
  res.json({ user_id, username, login_time });
});

app.post('/cart/items', (req: Req, res: Res) => {
  if (!req.session.data.user_id) return res.status(401).json({ error: 'not logged in' });
  const outcome = addToCart(req.session.data.cart, req.body);
  if (outcome.status !== 200) return res.status(outcome.status).json({ error: outcome.error });
  req.session.data.cart = outcome.items;
  res.json({ items: outcome.items });
});

app.delete('/cart', (req: Req, res: Res) => {
  if (!req.session.data.user_id) return res.status(401).json({ error: 'not logged in' });
  delete req.session.data.cart;
  res.json({ items: [] });
});

const server: Server = app.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
