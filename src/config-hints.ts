/**
 * What to use here instead of another session library's option, for the
 * messages of unknown config keys. People move from express-session,
 * @fastify/session, @fastify/secure-session and iron-session with their
 * options in hand; the error should say where each one went.
 *
 * Options of those libraries that are also ours with the same meaning
 * (`cookieName` of both Fastify plugins) are simply accepted.
 */

const COOKIE_OPTIONS = 'cookieName, cookiePath, cookieDomain, cookieSecure, cookieHttpOnly and cookieSameSite; its lifetime is sessionLifetime (ms)';

/** Top-level keys: express-session, @fastify/session, @fastify/secure-session, iron-session, and cookie attributes without our prefix. */
export const TOP_LEVEL_HINTS: Readonly<Record<string, string>> = {
  // express-session (and @fastify/session's secret)
  secret:
    "rockstar-session takes encryptionKey (exactly 32 random bytes as a Buffer, e.g. Buffer.from(process.env.SESSION_KEY, 'base64')); " +
    'older keys of a secret array go in previousKeys',
  secrets: 'rockstar-session takes encryptionKey (32 bytes); older keys go in previousKeys',
  resave: 'not needed: only changed sessions are written (save() writes; refresh() extends the expiry without rewriting data)',
  saveUninitialized: 'not needed: nothing is stored for a visitor until create() is called',
  rolling: 'use refresh(ctx, session): it extends the idle expiry (sessionLifetime) and re-issues the cookie, at most once per touchThreshold',
  name: 'use cookieName',
  cookie: `the cookie is configured by ${COOKIE_OPTIONS}`,
  store: "use storageType ('cache', 'filesystem' with filesystemPath, or 'database' with database: { uri })",
  genid: 'not configurable: session ids are 32 random bytes from libsodium',
  proxy: "not a session option: the HTTP adapters take trustedProxies; set cookieSecure to say whether the cookie is Secure",
  unset: 'use destroy(ctx, session) to remove a session and clearCookie(ctx) to drop its cookie',
  // @fastify/session
  idGenerator: 'not configurable: session ids are 32 random bytes from libsodium',
  cookiePrefix: "put the prefix in cookieName, e.g. cookieName: '__Host-session'",
  // @fastify/secure-session
  key: 'rockstar-session takes encryptionKey (32 bytes); older keys of a key array go in previousKeys',
  salt: 'not needed: encryptionKey is 32 random bytes used through a KDF, not a password',
  sessionName: 'one manager per session: give each its own cookieName',
  expiry: 'use sessionLifetime, in milliseconds (not seconds)',
  // iron-session
  password: 'the session key is encryptionKey (32 random bytes); a database password goes in database',
  cookieOptions: `the cookie is configured by ${COOKIE_OPTIONS}`,
  ttl: 'use sessionLifetime (ms); absoluteLifetime caps a session from its creation',
  // cookie attributes and lifetimes under other libraries' names
  maxAge: 'use sessionLifetime (ms); absoluteLifetime caps a session from its creation',
  expires: 'use sessionLifetime (ms): the cookie expires with the session',
  secure: 'use cookieSecure',
  httpOnly: 'use cookieHttpOnly',
  sameSite: 'use cookieSameSite',
  domain: 'use cookieDomain',
  path: 'use cookiePath for the cookie, or filesystemPath for the filesystem store',
  storage: "use storageType ('cache', 'filesystem' or 'database')",
  trustedProxies: 'an option of the HTTP adapters (uwsHandler, nodeHandler), not of the manager',
};

/** `cache` keys under lru-cache's names. */
export const CACHE_HINTS: Readonly<Record<string, string>> = {
  max: 'the cache is bounded in bytes: use cache.maxBytes',
  maxSize: 'use cache.maxBytes',
  ttl: 'cached records live until their session expires; cache.staleMs bounds how old a record read from a shared store may be',
};

/** `crypto` keys under piscina's names. */
export const CRYPTO_HINTS: Readonly<Record<string, string>> = {
  maxThreads: 'use crypto.threads',
  minThreads: 'use crypto.threads (the pool keeps that many)',
  workers: 'use crypto.threads',
  pool: "use crypto.mode: 'pool' (or 'auto', 'inline')",
  maxQueueSize: 'use crypto.maxQueue',
};
