/**
 * nodeSessionContext: the SessionContext alone, for Express-style code that
 * writes its own responses. Set-Cookie values land on the response as the
 * manager issues them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nodeSessionContext, resolveAdapterOptions } from '../../src/http/node.ts';
import { createSessionManager, SessionError, type SessionManager } from '../../src/index.ts';
import { jsonOf, sessionCookie } from './app-fixture.ts';

describe('nodeSessionContext on a plain node:http server', () => {
  let manager: SessionManager;
  let server: Server;
  let base: string;
  const adapter = resolveAdapterOptions({ trustedProxies: ['127.0.0.1'] });

  before(async () => {
    manager = await createSessionManager({ storageType: 'cache', encryptionKey: randomBytes(32), cleanupInterval: 0, cookieSecure: false });
    server = createServer(async (req, res) => {
      const ctx = nodeSessionContext(req, res, adapter);
      try {
        if (req.url === '/start') {
          ctx.userId = 'express-user';
          const session = await manager.create(ctx);
          await manager.setCookie(ctx, session);
          res.end(JSON.stringify({ ip: session.ipAddress, ua: session.userAgent }));
        } else {
          const session = await manager.getSessionFromCookie(ctx);
          res.end(JSON.stringify({ userId: session.userId }));
        }
      } catch (error) {
        res.statusCode = error instanceof SessionError ? 401 : 500;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await manager.close();
  });

  it('puts the Set-Cookie on the response and reads the cookie back', async () => {
    const started = await fetch(`${base}/start`, { headers: { 'user-agent': 'express-test', 'x-forwarded-for': '198.51.100.4' } });
    assert.deepEqual(await jsonOf(started), { ip: '198.51.100.4', ua: 'express-test' });
    const cookie = sessionCookie(started);
    assert.ok(cookie);
    assert.deepEqual(await jsonOf(fetch(`${base}/me`, { headers: { cookie } })), { userId: 'express-user' });
    assert.equal((await fetch(`${base}/me`, { headers: { cookie: 'rockstar_session=forged' } })).status, 401);
  });
});
