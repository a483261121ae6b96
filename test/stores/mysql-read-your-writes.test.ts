/** Read-your-writes across two managers over one MySQL table. */
import { dropTable, markMysqlTestRan, mysqlManager, uniqueTable } from '../helpers/mysql.ts';
import { testKey } from '../helpers/manager.ts';
import { readYourWritesSuite } from '../helpers/read-your-writes.ts';

readYourWritesSuite('database store', async (clock) => {
  markMysqlTestRan();
  const table = uniqueTable('ryw');
  const encryptionKey = testKey();
  const a = (await mysqlManager(table, { encryptionKey, now: clock.read })).manager;
  const b = (await mysqlManager(table, { encryptionKey, now: clock.read })).manager;
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await dropTable(table);
    },
  };
});
