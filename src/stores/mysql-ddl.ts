/**
 * The `database` backend's table: its DDL (also in README-mysql.md) and the
 * check that an existing table has the columns the store relies on.
 */

/**
 * id is the 32-byte store key (a keyed hash of the session id; the id itself
 * is never stored). user_id / tenant_id are 16-byte keyed hashes, NULL for
 * anonymous sessions. expires_at is ms since the epoch. InnoDB: row locks for
 * the compare-and-swap UPDATEs and crash-safe commits.
 */
export function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS \`${table}\` (
  id BINARY(32) NOT NULL,
  version BIGINT UNSIGNED NOT NULL,
  user_id BINARY(16) NULL,
  tenant_id BINARY(16) NULL,
  expires_at BIGINT NOT NULL,
  data MEDIUMBLOB NOT NULL,
  PRIMARY KEY (id),
  KEY idx_expires_at (expires_at),
  KEY idx_user_id (user_id),
  KEY idx_tenant_id (tenant_id)
) ENGINE=InnoDB`;
}

interface ColumnExpectation {
  readonly dataTypes: readonly string[];
  /** Exact byte length for BINARY columns. */
  readonly octets?: number;
  readonly describe: string;
}

const EXPECTED_COLUMNS: Readonly<Record<string, ColumnExpectation>> = {
  id: { dataTypes: ['binary'], octets: 32, describe: 'BINARY(32)' },
  version: { dataTypes: ['bigint', 'int'], describe: 'BIGINT UNSIGNED' },
  user_id: { dataTypes: ['binary'], octets: 16, describe: 'BINARY(16)' },
  tenant_id: { dataTypes: ['binary'], octets: 16, describe: 'BINARY(16)' },
  expires_at: { dataTypes: ['bigint'], describe: 'BIGINT' },
  data: { dataTypes: ['mediumblob', 'longblob'], describe: 'MEDIUMBLOB' },
};

export const COLUMNS_SQL =
  'SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_OCTET_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?';

export interface ColumnRow {
  readonly COLUMN_NAME: string;
  readonly DATA_TYPE: string;
  readonly CHARACTER_OCTET_LENGTH: number | null;
}

/** What is wrong with the table's columns (empty when it fits). A missing table has no columns. */
export function schemaProblems(columns: readonly ColumnRow[]): string[] {
  if (columns.length === 0) return ['the table does not exist'];
  const byName = new Map(columns.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(EXPECTED_COLUMNS)) {
    const column = byName.get(name);
    if (!column) {
      problems.push(`column ${name} ${expected.describe} is missing`);
      continue;
    }
    const typeOk = expected.dataTypes.includes(column.DATA_TYPE.toLowerCase());
    const sizeOk = expected.octets === undefined || Number(column.CHARACTER_OCTET_LENGTH) === expected.octets;
    if (!typeOk || !sizeOk) {
      const size = column.CHARACTER_OCTET_LENGTH === null ? '' : `(${column.CHARACTER_OCTET_LENGTH})`;
      problems.push(`column ${name} is ${column.DATA_TYPE}${size}, expected ${expected.describe}`);
    }
  }
  return problems;
}
