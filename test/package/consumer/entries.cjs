// Run in the consumer project: requires, then imports, each entry point named
// in argv[2] (a JSON list) and reports what each gave. Under require(esm)
// both must give the one module namespace: one copy of the library, so
// `instanceof SessionError` holds whichever way it was loaded.
'use strict';
const entries = JSON.parse(process.argv[2]);

async function main() {
  const report = {};
  for (const entry of entries) {
    const required = require(entry);
    const imported = await import(entry);
    report[entry] = { exports: Object.keys(required).sort(), sameModule: required === imported };
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
