/**
 * Runs one case family in its own process (fresh heap, no JIT state shared
 * between families) and writes its result as JSON to the path given.
 * Usage: node --import tsx bench/child.ts <family> <out.json> [--quick]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { FamilyOptions, FamilyResult } from './lib/results.ts';

const [family, out] = process.argv.slice(2);
const quick = process.argv.includes('--quick');
if (!family || !out) throw new Error('usage: child.ts <family> <out.json> [--quick]');

const module = (await import(`./cases/${family}.ts`)) as { run(options: FamilyOptions): Promise<FamilyResult> };
const options: FamilyOptions = { quick, progress: (line) => process.stderr.write(`  ${line}\n`) };
const loadBefore = loadavg()[0]!;
const result = await module.run(options);
// Other work on a shared machine is the main source of noise: say how busy it was while this family ran.
result.conditions['machine load'] = `1-minute load average ${loadBefore.toFixed(1)} when this section started, ${loadavg()[0]!.toFixed(1)} when it ended (2 cores; the bench itself keeps up to about 2 busy, so well above 2 means other work competed)`;
writeFileSync(out, JSON.stringify(result, null, 2));
// Peers (express-mysql-session, fastify) may leave handles open; the result is written, so leave now.
process.exit(0);
