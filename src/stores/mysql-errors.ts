/**
 * What a failed statement means for the MySQL store: a lost race that
 * changed nothing, a node that refused to run it, or a connection that is
 * gone. Observed on this project's machine (MariaDB 10.11, galera-4), see
 * README-mysql.md, "Conflicts".
 */

/** ER_LOCK_DEADLOCK: an InnoDB deadlock victim, and Galera's certification failure (same errno, sqlState 40001). */
export const ER_LOCK_DEADLOCK = 1213;
/** ER_LOCK_WAIT_TIMEOUT: innodb_lock_wait_timeout passed; the statement is rolled back (innodb_rollback_on_timeout=OFF rolls back the statement, and ours are whole transactions). */
export const ER_LOCK_WAIT_TIMEOUT = 1205;
/** ER_ERROR_DURING_COMMIT with handler error 149 (HA_ERR_LOCK_DEADLOCK): a commit-time deadlock, also a rollback. */
export const ER_ERROR_DURING_COMMIT = 1180;
/** ER_UNKNOWN_COM_ERROR: on Galera "WSREP has not yet prepared node for application use" (a joining, desynced or non-primary node). The statement did not run. */
export const ER_UNKNOWN_COM_ERROR = 1047;
export const ER_DUP_ENTRY = 1062;

/**
 * Server errors after which the server has closed (or is closing) the
 * session, though mysql2 does not mark them fatal: the connection must be
 * destroyed, never handed to the next operation (issue 13: a write over
 * max_allowed_packet used to fail the next, unrelated, request with ECONNRESET).
 */
const ENDS_SESSION = new Set([
  1153, // ER_NET_PACKET_TOO_LARGE (sqlState 08S01): the server closes the connection after sending it
  1053, // ER_SERVER_SHUTDOWN
  1927, // ER_CONNECTION_KILLED (MariaDB)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8: idle too long)
]);

interface DriverError {
  readonly errno?: unknown;
  readonly sqlState?: unknown;
  readonly code?: unknown;
  readonly fatal?: unknown;
  readonly message?: unknown;
}

function asDriverError(error: unknown): DriverError {
  return error !== null && typeof error === 'object' ? (error as DriverError) : {};
}

/**
 * A lost lock or certification race: the server rolled the statement back
 * whole, so nothing of it happened, and running it again is safe. Our
 * statements are single-row, autocommitted and (for updates) conditional on
 * the version, so a repeat decides afresh against whatever won.
 */
export function isConflict(error: unknown): boolean {
  const { errno, message } = asDriverError(error);
  if (errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT) return true;
  return errno === ER_ERROR_DURING_COMMIT && typeof message === 'string' && /\b149\b/.test(message);
}

/**
 * The node could not run or commit the statement because it is not part of
 * the primary component (Galera): 1047 before running it, or 1180 "Error
 * while appending … (provider status: Not connected to Primary Component)"
 * at commit, when the write set could not even be sent for ordering. Either
 * way nothing of it happened; another node, or this one once it is back in
 * the primary component, may take it.
 */
export function isNodeNotReady(error: unknown): boolean {
  const { errno, message } = asDriverError(error);
  if (errno === ER_UNKNOWN_COM_ERROR) return true;
  return errno === ER_ERROR_DURING_COMMIT && typeof message === 'string' && /not connected to primary component/i.test(message);
}

/**
 * True when the server answered with an error and the session goes on
 * (duplicate key, deadlock, lock wait timeout, syntax…). Anything else
 * (network error, protocol error, anything mysql2 marks fatal, an 08xxx
 * connection-exception state, a server error that closes the session, a bug
 * in our step) leaves the connection closed or in an unknown state.
 */
export function leavesConnectionSound(error: unknown): boolean {
  const { fatal, sqlState, errno } = asDriverError(error);
  if (fatal === true || typeof sqlState !== 'string') return false;
  if (sqlState.startsWith('08')) return false;
  return !(typeof errno === 'number' && ENDS_SESSION.has(errno));
}

/**
 * The connection broke while a statement may have been on its way: the
 * statement may or may not have run. Only operations whose repetition
 * changes nothing (find, touch, delete, and insert with its check) may be
 * run again after this.
 */
export function isConnectionLost(error: unknown): boolean {
  const { code, fatal } = asDriverError(error);
  if (fatal === true) return true;
  return typeof code === 'string' && (code.startsWith('PROTOCOL_') || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'ECONNREFUSED');
}

/** A short message naming the driver's code, for errors the store builds itself. */
export function driverCode(error: unknown): string {
  const { code, errno } = asDriverError(error);
  return typeof code === 'string' ? code : typeof errno === 'number' ? `errno ${errno}` : 'unknown';
}
