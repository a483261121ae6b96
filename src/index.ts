/** rockstar-session: the public surface (re-exports only). */
export { createSessionManager, SessionManager, type CacheStats } from './manager.ts';
export { Session } from './session.ts';
export type { SessionData, DefaultSessionData, DataKey } from './session-data.ts';
export type { SessionContext } from './http/context.ts';
export type {
  SessionConfig,
  ResolvedConfig,
  StorageType,
  SameSite,
  CryptoMode,
  CacheOptions,
  CryptoOptions,
  DatabaseOptions,
  FilesystemOptions,
} from './config.ts';
export {
  SessionError,
  SessionConfigError,
  SessionNotFoundError,
  SessionExpiredError,
  SessionKeyNotFoundError,
  InvalidCookieError,
  CookieTooLargeError,
  SessionDataError,
  SessionStoreError,
  SessionConflictError,
  SessionOverloadedError,
  SessionClosedError,
  SessionContextError,
  SESSION_ERROR_STATUS,
  type SessionErrorCode,
} from './errors.ts';
export type { SessionStore, StoredRecord, RecordWrite, KeyedRecord, StoreKey } from './stores/store.ts';
export type { DatabaseNode, NodeSelector } from './stores/mysql-options.ts';
export type { RecordStore } from './tier/record-store.ts';
export type { OpenRecord } from './tier/open-record.ts';
export { responseForError, RETRY_AFTER_SECONDS, type ErrorResponse } from './http/errors-to-status.ts';
