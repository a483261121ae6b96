/**
 * Runs one case family in its own process (fresh heap, no JIT state shared
 * between families) and writes its result as JSON to the path given.
 * Usage: node --import tsx bench/child.ts <family> <out.json> [--quick]
 */
import { writeFileSync } from 'node:fs';
import type { FamilyOptions, FamilyResult } from './lib/results.ts';

const [family, out] = process.argv.slice(2);
const quick = process.argv.includes('--quick');
if (!family || !out) throw new Error('usage: child.ts <family> <out.json> [--quick]');

const module = (await import(`./cases/${family}.ts`)) as { run(options: FamilyOptions): Promise<FamilyResult> };
const options: FamilyOptions = { quick, progress: (line) => process.stderr.write(`  ${line}\n`) };
const result = await module.run(options);
writeFileSync(out, JSON.stringify(result, null, 2));
// Peers (express-mysql-session, fastify) may leave handles open; the result is written, so leave now.
process.exit(0);
