/**
 * What the MySQL store learns about its server at open(): the database in
 * use, whether a session's largest record fits the server's packet limit
 * and the data column, and whether the server is a Galera node (which
 * decides how a causal read is asked for).
 */
import type { PoolConnection } from 'mysql2';
import { SessionConfigError } from '../errors.ts';
import { query } from './mysql-deadline.ts';

/** Sealed bytes = encoded record + 45 (version, key id, nonce and tag: SEAL_OVERHEAD in crypto/aead.ts, which the stores do not load). */
export const SEAL_OVERHEAD = 45;
/**
 * Room for the rest of the UPDATE in one COM_STMT_EXECUTE packet: header,
 * statement id, flags, types and the other five parameters take under 100
 * bytes (measured: a 16777116-byte record fits MariaDB's 16 MiB default, a
 * 16777166-byte one does not); 1 KiB leaves a margin.
 */
export const STATEMENT_OVERHEAD = 1024;
/** The largest value a MEDIUMBLOB holds. */
export const MEDIUMBLOB_MAX = 16 * 1024 * 1024 - 1;

export interface ServerFacts {
  readonly database: string | null;
  readonly maxAllowedPacket: number;
  /** wsrep_on is ON: a Galera node (MariaDB Galera, Percona XtraDB Cluster). */
  readonly galera: boolean;
  /** MariaDB understands `SET STATEMENT var = … FOR <statement>`, which scopes wsrep_sync_wait to one read. */
  readonly setStatement: boolean;
}

export async function serverFacts(connection: PoolConnection): Promise<ServerFacts> {
  const [row] = await query<Array<{ db: string | null; packet: number | string; version: string }>>(
    connection,
    'SELECT DATABASE() AS db, @@max_allowed_packet AS packet, VERSION() AS version',
  );
  // SHOW VARIABLES answers an empty list where wsrep does not exist (MySQL), where SELECT @@wsrep_on would fail.
  const wsrep = await query<Array<{ Value: string }>>(connection, "SHOW VARIABLES LIKE 'wsrep_on'");
  return {
    database: row?.db ?? null,
    maxAllowedPacket: Number(row?.packet ?? 0),
    galera: wsrep[0]?.Value === 'ON',
    setStatement: /mariadb/i.test(row?.version ?? ''),
  };
}

/**
 * Refuses (ERR_SESSION_CONFIG) a maxDataBytes whose sealed record would not
 * fit: the server refuses a larger packet with 1153 and closes the
 * connection, and a MEDIUMBLOB truncates nothing but refuses more than 16 MiB.
 */
export function checkRecordFits(maxDataBytes: number | undefined, facts: ServerFacts, dataType: string | undefined): void {
  if (maxDataBytes === undefined) return;
  const sealed = maxDataBytes + SEAL_OVERHEAD;
  const packetNeeded = sealed + STATEMENT_OVERHEAD;
  if (packetNeeded > facts.maxAllowedPacket) {
    throw new SessionConfigError(
      `maxDataBytes must fit the database server: a ${maxDataBytes}-byte record is sealed to ${sealed} bytes and written in a ` +
        `statement of up to ${packetNeeded} bytes, but the server's max_allowed_packet is ${facts.maxAllowedPacket}. ` +
        `Lower maxDataBytes to at most ${Math.max(0, facts.maxAllowedPacket - STATEMENT_OVERHEAD - SEAL_OVERHEAD)} or raise max_allowed_packet`,
    );
  }
  if (dataType?.toLowerCase() === 'mediumblob' && sealed > MEDIUMBLOB_MAX) {
    throw new SessionConfigError(
      `maxDataBytes must fit the data column: a ${maxDataBytes}-byte record is sealed to ${sealed} bytes, over the ${MEDIUMBLOB_MAX} a MEDIUMBLOB holds. ` +
        `Lower maxDataBytes to at most ${MEDIUMBLOB_MAX - SEAL_OVERHEAD} or make the column LONGBLOB`,
    );
  }
}
