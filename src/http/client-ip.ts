/**
 * The client's address: the socket peer, unless the peer is a proxy we
 * were told to trust, in which case X-Forwarded-For says who it forwards for.
 *
 * X-Forwarded-For is whatever the client wrote plus what each proxy
 * appended, so only its right end is trustworthy. We walk it from the right,
 * skipping our own proxies, and take the first address they did not add.
 */
import { BlockList, isIP } from 'node:net';
import { SessionConfigError } from '../errors.ts';

/** Longest X-Forwarded-For we walk: a client can make the header as long as it likes. */
const MAX_FORWARDED_HOPS = 32;

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly enabled: boolean;

  /** `proxies`: addresses ('10.0.0.1', '::1') or CIDR ranges ('10.0.0.0/8', 'fd00::/8'). */
  constructor(proxies: readonly string[] = []) {
    if (!Array.isArray(proxies)) throw new SessionConfigError(`trustedProxies must be an array of addresses or CIDR ranges; received ${typeof proxies}`);
    proxies.forEach((entry, i) => this.#add(entry, i));
    this.enabled = proxies.length > 0;
  }

  #add(entry: unknown, i: number): void {
    const option = `trustedProxies[${i}]`;
    if (typeof entry !== 'string') throw new SessionConfigError(`${option} must be an address or CIDR range; received ${typeof entry}`);
    const [address = '', bits, extra] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) throw new SessionConfigError(`${option} must be an address or CIDR range; received ${JSON.stringify(entry)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      this.#list.addAddress(address, type);
      return;
    }
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      throw new SessionConfigError(`${option} has an invalid prefix length; received ${JSON.stringify(entry)}`);
    }
    this.#list.addSubnet(address, prefix, type);
  }

  isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client address for a request from `peer` carrying `forwardedFor` (the raw X-Forwarded-For header). */
  clientAddress(peer: string, forwardedFor: string | undefined): string {
    const socketAddress = normalizeAddress(peer);
    if (!this.enabled || !forwardedFor || !this.isTrusted(socketAddress)) return socketAddress;
    const hops = forwardedFor.split(',');
    let client = socketAddress;
    for (let i = hops.length - 1, walked = 0; i >= 0 && walked < MAX_FORWARDED_HOPS; i--, walked++) {
      const hop = normalizeAddress((hops[i] ?? '').trim());
      if (isIP(hop) === 0) break; // garbage: stop at the last address we could vouch for
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }
}

/** '::ffff:127.0.0.1' -> '127.0.0.1', so one trusted-proxy entry covers both socket flavours. */
export function normalizeAddress(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 /* : */ && address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) {
    return address.slice(7);
  }
  return address;
}
