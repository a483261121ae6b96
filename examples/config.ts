/**
 * The example app's session configuration, from the environment:
 *
 *   SESSION_STORE   filesystem (default, no database needed) | cache | database
 *   SESSION_DIR     filesystem store root (default ./sessions)
 *   MYSQL_URL       mysql://user:pass@host:3306/db, required for SESSION_STORE=database
 *   SESSION_KEY     base64 of 32 random bytes: `node -e "console.log(crypto.randomBytes(32).toString('base64'))"`
 *   COOKIE_SECURE   1 to mark the cookie Secure (do this whenever the app is served over https)
 */
import { randomBytes } from 'node:crypto';
import type { SessionConfig, StorageType } from '../src/index.ts';

export interface EnvConfig {
  readonly config: SessionConfig;
  /** Things the operator must hear about (printed loudly at start). */
  readonly warnings: readonly string[];
}

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

  const config: SessionConfig = {
    storageType,
    encryptionKey,
    // The demo is served over plain http on localhost, where a Secure cookie would never be sent back
    // (browsers only exempt http://localhost itself, and curl/autocannon honour no such exemption).
    // Lax still keeps the cookie off cross-site POSTs. Behind https, set COOKIE_SECURE=1.
    cookieSecure: env.COOKIE_SECURE === '1',
    cookieSameSite: 'Lax',
    cookieHttpOnly: true,
  };
  if (storageType === 'filesystem') config.filesystemPath = env.SESSION_DIR || './sessions';
  if (storageType === 'database') {
    if (!env.MYSQL_URL) throw new EnvConfigError('SESSION_STORE=database needs MYSQL_URL (mysql://user:password@host:3306/database)');
    config.database = { uri: env.MYSQL_URL };
  }
  if (storageType === 'cache') warnings.push('SESSION_STORE=cache keeps sessions in this process only: they die with it.');
  return { config, warnings };
}
