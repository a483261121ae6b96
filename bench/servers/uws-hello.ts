/** The ceiling: a bare uWebSockets.js hello world, no session, no JSON. */
import uWS from 'uWebSockets.js';
import { announce } from './listening.ts';

uWS
  .App()
  .any('/*', (res) => {
    res.cork(() => res.end('Hello World!'));
  })
  .listen('127.0.0.1', 0, (socket) => {
    if (!socket) throw new Error('uWS hello world could not listen');
    announce(uWS.us_socket_local_port(socket));
  });
