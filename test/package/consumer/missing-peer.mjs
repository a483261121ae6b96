// Run in the consumer project: loads the entry point in argv[2] with import
// and with require, expecting both to fail, and reports each error's code and message.
import { createRequire } from 'node:module';

const entry = process.argv[2];
const require = createRequire(import.meta.url);
const outcome = (error) => ({ code: error?.code ?? null, message: String(error?.message ?? error) });
const report = {};
try {
  await import(entry);
  report.import = 'loaded';
} catch (error) {
  report.import = outcome(error);
}
try {
  require(entry);
  report.require = 'loaded';
} catch (error) {
  report.require = outcome(error);
}
process.stdout.write(JSON.stringify(report));
