/**
 * One "app node" in its own process, for test/stores/mysql-shared-nodes.test.ts:
 * a manager on the shared table that sets its own keys and increments one
 * shared counter in session ID, concurrently, then prints what was
 * acknowledged as one JSON line.
 *
 *   node --import tsx test/helpers/mysql-node-process.ts '{"url","table","key","id","node","ops"}'
 */
import { createSessionManager } from '../../src/index.ts';

interface Job {
  readonly url: string;
  readonly table: string;
  /** The shared encryption key, base64. */
  readonly key: string;
  readonly id: string;
  readonly node: string;
  readonly ops: number;
  readonly staleMs: number;
}

const job = JSON.parse(process.argv[2] ?? '') as Job;
const manager = await createSessionManager({
  storageType: 'database',
  database: { uri: job.url, table: job.table, poolSize: 4 },
  encryptionKey: Buffer.from(job.key, 'base64'),
  cache: { staleMs: job.staleMs },
  cleanupInterval: 0,
  crypto: { mode: 'inline' },
});
const acknowledged = { sets: [] as string[], increments: 0, failures: [] as string[] };
await Promise.all(
  Array.from({ length: job.ops }, async (_, i) => {
    const key = `${job.node}-${i}`;
    try {
      await manager.set(job.id, key, i);
      acknowledged.sets.push(key);
    } catch (error) {
      acknowledged.failures.push(`set ${key}: ${(error as { code?: string }).code}`);
    }
    try {
      await manager.update(job.id, 'counter', (n) => ((n as number | undefined) ?? 0) + 1);
      acknowledged.increments++;
    } catch (error) {
      acknowledged.failures.push(`increment: ${(error as { code?: string }).code}`);
    }
  }),
);
await manager.close();
process.stdout.write(`${JSON.stringify(acknowledged)}\n`);
