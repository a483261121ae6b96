/**
 * The example app's session configuration, from the environment:
 *
 *   SESSION_STORE   filesystem (default, no database needed) | cache | database
 *   SESSION_DIR     filesystem store root (default ./sessions)
 *   MYSQL_URL       mysql://user:pass@host:3306/db, required for SESSION_STORE=database
 *   SESSION_KEY     base64 of 32 random bytes: `node -e "console.log(crypto.randomBytes(32).toString('base64'))"`
 *   COOKIE_SECURE   1 when the app is served over https: the cookie is then Secure and named
 *                   __Host-rockstar_session (Path=/, no Domain: no subdomain can set or shadow it)
 *   TRUSTED_ORIGINS other origins whose pages may post to the app, comma-separated
 *                   (https://shop.example.com); see same-origin.ts
 */
import { randomBytes } from 'node:crypto';
import type { SessionConfig, StorageType } from '../src/index.ts';
import { parseOrigin } from './same-origin.ts';

export interface EnvConfig {
  readonly config: SessionConfig;
  /** Origins besides the app's own allowed to post to it (TRUSTED_ORIGINS). */
  readonly trustedOrigins: readonly string[];
  /** Things the operator must hear about (printed loudly at start). */
  readonly warnings: readonly string[];
}

/** The cookie's name over plain http (the demo's default). */
export const COOKIE_NAME = 'rockstar_session';
/**
 * Its name over https. Browsers accept a __Host- cookie only when it is
 * Secure, has Path=/ and no Domain, so no sibling subdomain (or plain-http
 * page) can set one that shadows it.
 */
export const SECURE_COOKIE_NAME = `__Host-${COOKIE_NAME}`;

const STORES: readonly StorageType[] = ['filesystem', 'cache', 'database'];

export class EnvConfigError extends Error {
  override get name(): string {
    return 'EnvConfigError';
  }
}

export function sessionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const warnings: string[] = [];
  const storageType = (env.SESSION_STORE || 'filesystem') as StorageType;
  if (!STORES.includes(storageType)) throw new EnvConfigError(`SESSION_STORE must be one of ${STORES.join(', ')}; received ${JSON.stringify(env.SESSION_STORE)}`);

  let encryptionKey: Buffer;
  if (env.SESSION_KEY) {
    encryptionKey = Buffer.from(env.SESSION_KEY, 'base64');
    if (encryptionKey.byteLength !== 32) throw new EnvConfigError(`SESSION_KEY must be base64 of exactly 32 bytes; it decodes to ${encryptionKey.byteLength}`);
  } else {
    encryptionKey = randomBytes(32);
    warnings.push(
      'SESSION_KEY is not set: using a random key generated for this run only. Sessions will NOT survive a restart ' +
        '(every cookie issued now becomes invalid). ' +
        `Set SESSION_KEY=${randomBytes(32).toString('base64')} (or any 32 random bytes, base64) to keep them.`,
    );
  }

  const secure = env.COOKIE_SECURE === '1';
  const config: SessionConfig = {
    storageType,
    encryptionKey,
    // The demo is served over plain http on localhost, where a Secure cookie would never be sent back
    // (browsers only exempt http://localhost itself, and curl/autocannon honour no such exemption).
    // Lax still keeps the cookie off cross-site POSTs. Behind https, set COOKIE_SECURE=1.
    cookieSecure: secure,
    cookieName: secure ? SECURE_COOKIE_NAME : COOKIE_NAME,
    cookiePath: '/',
    cookieSameSite: 'Lax',
    cookieHttpOnly: true,
  };
  if (storageType === 'filesystem') config.filesystemPath = env.SESSION_DIR || './sessions';
  if (storageType === 'database') {
    if (!env.MYSQL_URL) throw new EnvConfigError('SESSION_STORE=database needs MYSQL_URL (mysql://user:password@host:3306/database)');
    config.database = { uri: env.MYSQL_URL };
  }
  if (storageType === 'cache') warnings.push('SESSION_STORE=cache keeps sessions in this process only: they die with it.');
  return { config, trustedOrigins: trustedOriginsFrom(env.TRUSTED_ORIGINS), warnings };
}

function trustedOriginsFrom(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(',').map((entry) => {
    const parsed = parseOrigin(entry.trim());
    if ('error' in parsed) throw new EnvConfigError(`TRUSTED_ORIGINS: ${parsed.error}`);
    return parsed.origin;
  });
}
