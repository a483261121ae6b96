/**
 * express 5 + express-session with session-file-store (its files in a fresh temp directory,
 * removed on exit), configured as their READMEs recommend: the filesystem peer of our
 * filesystem store. Same routes, session contents and cart rules (cart.ts) as express-session.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addToCart } from './cart.ts';
import { announce, DEMO_PASSWORD } from './listening.ts';

const require = createRequire(import.meta.url);
const express = require('express');
const session = require('express-session');
const FileStore = require('session-file-store')(session);

/* eslint-disable @typescript-eslint/no-explicit-any -- express ships no types here; this file only wires routes. */
type Req = any;
type Res = any;

const dir = mkdtempSync(join(tmpdir(), 'bench-session-file-store-'));
const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
process.once('exit', cleanup);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));

const app = express();
app.use(express.json());
app.use(
  session({
    secret: randomBytes(32).toString('base64'),
    // Defaults otherwise (write-file-atomic, 5 retries); no reaper, to keep its timer out of the measurement.
    store: new FileStore({ path: dir, logFn: () => {}, reapInterval: -1 }),
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
