/** Validation of the `database` option (the MySQL store's settings), once, at createSessionManager. */
import type { StorageType } from '../config.ts';
import { SessionConfigError } from '../errors.ts';
import { booleanOption, matching, optionalObject, positiveInteger, reject } from '../validate.ts';

export interface DatabaseOptions {
  /** mysql://user:pass@host:port/db — or give mysql2 connection options below. */
  uri?: string;
  /** Table name (letters, digits, underscore). Default 'rockstar_sessions'. */
  table?: string;
  /** Connections in the mysql2 pool. Default 10. */
  poolSize?: number;
  /** Deadline of one store operation in ms; a connection that misses it is destroyed. Default 5000. */
  operationTimeout?: number;
  /** Create the table on first use when it is missing. Default true. */
  createTable?: boolean;
  /** Any other mysql2 connection option (host, port, user, password, database, socketPath, ssl, …). */
  [mysql2Option: string]: unknown;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The resolved `database` option, or undefined when the store is not 'database' and none was given. */
export function validateDatabaseOptions(value: unknown, storageType: StorageType): Readonly<DatabaseOptions> | undefined {
  if (value === undefined) {
    if (storageType === 'database') {
      throw new SessionConfigError(
        "database must be an object with a uri or mysql2 connection options when storageType is 'database' " +
          "(the seed's default storage); received undefined. Set storageType to 'cache' or 'filesystem' for an embedded store",
      );
    }
    return undefined;
  }
  const db = optionalObject('database', value);
  if (db.uri !== undefined && (typeof db.uri !== 'string' || !/^mysql:\/\//.test(db.uri))) {
    reject('database.uri', "a string starting with 'mysql://'", db.uri);
  }
  if (db.uri === undefined && db.host === undefined && db.socketPath === undefined) {
    reject('database', 'an object with uri, host or socketPath', value);
  }
  const resolved: DatabaseOptions = {
    ...db,
    table: matching('database.table', db.table, TABLE_NAME, 'a table name of letters, digits and underscores (at most 64)', 'rockstar_sessions'),
    poolSize: positiveInteger('database.poolSize', db.poolSize, 10),
    operationTimeout: positiveInteger('database.operationTimeout', db.operationTimeout, 5000),
    createTable: booleanOption('database.createTable', db.createTable, true),
  };
  return Object.freeze(resolved);
}
