/**
 * A deterministic InnoDB deadlock against one store statement, on the
 * shared test server (plain InnoDB, no Galera).
 *
 * An admin transaction first does some work (so that InnoDB, which rolls
 * back the lighter transaction, picks the store's statement as the victim),
 * then takes a lock the statement will need after it has locked its row
 * (`blocker`), waits until the statement is waiting for it, and finally asks
 * for the statement's row (`closer`): a cycle, which InnoDB breaks at once by
 * failing the statement with ER_LOCK_DEADLOCK. The admin transaction then
 * holds the row until `holdMs` has passed and rolls back.
 *
 * Seeing other sessions' transactions in information_schema.INNODB_TRX
 * needs the PROCESS privilege (scripts/mariadb.mjs grants it to its user).
 */
import type mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminConnection, uniqueTable } from './mysql.ts';

export interface DeadlockPlan<T> {
  /** What the admin transaction locks first: the lock the store's statement will wait for. */
  readonly blocker: string;
  /** The row lock that closes the cycle. */
  readonly closer: string;
  /** The store or manager call whose statement becomes the victim. */
  readonly operation: () => Promise<T>;
  /** How long the admin transaction keeps the row after the deadlock, before it rolls back. */
  readonly holdMs?: number;
}

export interface DeadlockOutcome<T> {
  readonly value?: T;
  readonly error?: unknown;
  /** How many deadlocks the server counted meanwhile (Innodb_deadlocks). */
  readonly deadlocks: number;
}

async function deadlockCount(admin: mysql.Connection): Promise<number> {
  const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'");
  return Number((rows as Array<{ Value: string }>)[0]?.Value ?? 0);
}

async function untilAnotherTransactionWaits(admin: mysql.Connection, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // InnoDB refreshes INNODB_TRX only when it was last read over 100 ms ago (an earlier read, even a
    // previous test's, may still be what it shows): wait that long before every look.
    await sleep(150);
    const [rows] = await admin.query(
      "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id <> CONNECTION_ID()",
    );
    if (Number((rows as Array<{ n: number }>)[0]?.n) > 0) return;
  }
  throw new Error('the store statement never waited for the blocker lock: the deadlock plan does not fit this server');
}

export async function provokeDeadlock<T>(plan: DeadlockPlan<T>): Promise<DeadlockOutcome<T>> {
  const admin = await adminConnection();
  const heavy = uniqueTable('heavy');
  try {
    await admin.query(`CREATE TABLE \`${heavy}\` (id INT PRIMARY KEY) ENGINE=InnoDB`);
    const before = await deadlockCount(admin);
    await admin.beginTransaction();
    await admin.query(`INSERT INTO \`${heavy}\` SELECT seq FROM seq_1_to_500`);
    await admin.query(plan.blocker);
    const pending = plan.operation().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await untilAnotherTransactionWaits(admin);
    await admin.query(plan.closer);
    if (plan.holdMs) await sleep(plan.holdMs);
    await admin.rollback();
    const outcome = await pending;
    return { ...outcome, deadlocks: (await deadlockCount(admin)) - before };
  } finally {
    await admin.query('ROLLBACK').catch(() => {});
    await admin.query(`DROP TABLE IF EXISTS \`${heavy}\``).catch(() => {});
    await admin.end();
  }
}
