/**
 * The ceiling for GET /profile: uWebSockets.js answering the same JSON as
 * the example app's /profile on a cache hit (same bytes, same headers:
 * content-type application/json; charset=utf-8, no cache-control, since a
 * hit sets no cookie), serialized per request from a constant object, with
 * no session engine. bench/cases/http.ts checks the response against ours
 * before timing it.
 */
import { createHash } from 'node:crypto';
import uWS from 'uWebSockets.js';
import { announce } from './listening.ts';

// What the example's login stores for the username "bench" (examples/auth.ts derives the id from the name).
const PROFILE = {
  user_id: `u-${createHash('sha256').update('bench').digest('hex').slice(0, 16)}`,
  username: 'bench',
  // A Date, as in the example's session: JSON.stringify calls toISOString on every response, as ours does.
  login_time: new Date(),
};

uWS
  .App()
  .get('/profile', (res) => {
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('content-type', 'application/json; charset=utf-8').end(JSON.stringify(PROFILE));
    });
  })
  .any('/*', (res) => {
    res.cork(() => res.writeStatus('404 Not Found').end());
  })
  .listen('127.0.0.1', 0, (socket) => {
    if (!socket) throw new Error('uWS same-JSON ceiling could not listen');
    announce(uWS.us_socket_local_port(socket));
  });
