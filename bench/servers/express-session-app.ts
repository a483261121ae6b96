/**
 * The express-session peers' server: express 5 + express-session configured
 * as its README recommends (login, profile and the cart, cart.ts's rules),
 * with the store each peer file names (MemoryStore when none).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { addToCart } from './cart.ts';
import { announce, DEMO_PASSWORD } from './listening.ts';

const require = createRequire(import.meta.url);
const express = require('express');
const session = require('express-session');

/* eslint-disable @typescript-eslint/no-explicit-any -- express ships no types here; this file only wires routes. */
type Req = any;
type Res = any;

/** Listens on 127.0.0.1 and announces the port. `storeOf` builds the store from express-session (as session stores are made). */
export function startExpressSessionApp(storeOf?: (expressSession: unknown) => unknown): void {
  const app = express();
  app.use(express.json());
  app.use(
    session({
      secret: randomBytes(32).toString('base64'),
      ...(storeOf ? { store: storeOf(session) } : {}),
      resave: false,
      saveUninitialized: false,
      cookie: { path: '/', httpOnly: true, secure: false, sameSite: 'lax' },
    }),
  );

  app.post('/login', (req: Req, res: Res) => {
    const { username, password } = req.body ?? {};
    if (typeof username !== 'string' || password !== DEMO_PASSWORD) return res.status(401).json({ error: 'invalid credentials' });
    req.session.regenerate((error: unknown) => {
      if (error) return res.status(500).json({ error: 'session' });
      req.session.user_id = `u-${username}`;
      req.session.username = username;
      req.session.roles = ['user', 'editor'];
      req.session.login_time = Date.now();
      res.json({ ok: true });
    });
  });

  app.get('/profile', (req: Req, res: Res) => {
    if (!req.session.user_id) return res.status(401).json({ error: 'not logged in' });
    res.json({ user_id: req.session.user_id, username: req.session.username, login_time: req.session.login_time });
  });

  // The cart: express-session saves the session after the response when a route changed it (resave: false).
  app.post('/cart/items', (req: Req, res: Res) => {
    if (!req.session.user_id) return res.status(401).json({ error: 'not logged in' });
    const outcome = addToCart(req.session.cart, req.body);
    if (outcome.status !== 200) return res.status(outcome.status).json({ error: outcome.error });
    req.session.cart = outcome.items;
    res.json({ items: outcome.items });
  });

  app.delete('/cart', (req: Req, res: Res) => {
    if (!req.session.user_id) return res.status(401).json({ error: 'not logged in' });
    delete req.session.cart;
    res.json({ items: [] });
  });

  const server: Server = app.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
}
