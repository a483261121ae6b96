/** The client address a session records: the socket's, unless a trusted proxy forwards for someone. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TrustedProxies, normalizeAddress } from '../../src/http/client-ip.ts';
import { SessionConfigError } from '../../src/index.ts';
import { authenticateUser } from '../../examples/auth.ts';
import { login, SERVERS, startTestApp, type TestApp } from './app-fixture.ts';

describe('TrustedProxies', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    assert.equal(new TrustedProxies().clientAddress('198.51.100.9', '203.0.113.7'), '198.51.100.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    assert.equal(new TrustedProxies(['10.0.0.1']).clientAddress('198.51.100.9', '203.0.113.7'), '198.51.100.9');
  });

  it('takes the right-most address not added by a trusted proxy', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8', '::1']);
    // The client claims to be 1.1.1.1; our proxies saw 203.0.113.7 and then 10.0.0.2.
    assert.equal(proxies.clientAddress('10.0.0.1', '1.1.1.1, 203.0.113.7, 10.0.0.2'), '203.0.113.7');
    assert.equal(proxies.clientAddress('::1', '203.0.113.7'), '203.0.113.7');
    assert.equal(proxies.clientAddress('::ffff:10.0.0.1', ' 203.0.113.7 '), '203.0.113.7');
  });

  it('stops at junk in the chain and keeps the last address it could vouch for', () => {
    const proxies = new TrustedProxies(['10.0.0.1']);
    assert.equal(proxies.clientAddress('10.0.0.1', '<script>, 10.0.0.1'), '10.0.0.1');
    assert.equal(proxies.clientAddress('10.0.0.1', 'unknown'), '10.0.0.1');
  });

  it('normalizes IPv4-mapped IPv6 socket addresses', () => {
    assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeAddress('::1'), '::1');
    assert.equal(new TrustedProxies().clientAddress('::ffff:192.0.2.1', undefined), '192.0.2.1');
  });

  it('rejects entries that are not addresses or CIDR ranges, naming the entry', () => {
    for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.1/8/1', '', 'fe80::/129', '10.0.0.0/x']) {
      assert.throws(() => new TrustedProxies([bad]), (e: unknown) => e instanceof SessionConfigError && /trustedProxies\[0\]/.test(e.message), bad);
    }
  });
});

for (const server of SERVERS) {
  describe(`recorded client address on ${server}`, () => {
    let direct: TestApp;
    let proxied: TestApp;
    before(async () => {
      direct = await startTestApp({ server });
      proxied = await startTestApp({ server, adapter: { trustedProxies: ['127.0.0.1'] } });
    });
    after(async () => {
      await direct.close();
      await proxied.close();
    });

    it('records the socket address when the peer is not a trusted proxy, whatever X-Forwarded-For says', async () => {
      await login(direct, 'spoofer', { 'x-forwarded-for': '203.0.113.7' });
      const [session] = await direct.manager.listForUser(authenticateUser('spoofer', 'rockstar')!.id);
      assert.equal(session?.ipAddress, '127.0.0.1');
    });

    it('records the forwarded client address behind a trusted proxy', async () => {
      await login(proxied, 'proxied', { 'x-forwarded-for': '1.1.1.1, 203.0.113.7' });
      const [session] = await proxied.manager.listForUser(authenticateUser('proxied', 'rockstar')!.id);
      assert.equal(session?.ipAddress, '203.0.113.7');
    });
  });
}
