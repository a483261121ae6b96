// Run in the consumer project with uWebSockets.js installed: serves two
// routes through rockstar-session/uws on 127.0.0.1 (a free port), logs in,
// reads the session back with the cookie, and reports what the client saw.
import { randomBytes } from 'node:crypto';
import uWS from 'uWebSockets.js';
import { createSessionManager } from 'rockstar-session';
import { uwsHandler } from 'rockstar-session/uws';

const sessions = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32) });
const app = uWS
  .App()
  .get('/login', uwsHandler(async (ex) => {
    const session = await sessions.create(ex.ctx);
    session.data.user = 'ada';
    await sessions.save(ex.ctx, session);
    ex.json(200, { ok: true });
  }))
  .get('/me', uwsHandler(async (ex) => {
    const session = await sessions.getSessionFromCookie(ex.ctx);
    ex.json(200, session.data);
  }));
const port = await new Promise((resolve, reject) => {
  app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(uWS.us_socket_local_port(socket)) : reject(new Error('listen failed'))));
});
try {
  const login = await fetch(`http://127.0.0.1:${port}/login`, { signal: AbortSignal.timeout(10_000) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const me = await fetch(`http://127.0.0.1:${port}/me`, { headers: { cookie }, signal: AbortSignal.timeout(10_000) });
  process.stdout.write(JSON.stringify({ login: login.status, cookieSet: cookie.length > 0, me: me.status, data: await me.json(), server: me.headers.get('uwebsockets') }));
} finally {
  app.close();
  await sessions.close();
}
