/** How every bench server tells the runner it is ready: one line on stdout, then nothing. */
export function announce(port: number): void {
  process.stdout.write(`LISTENING ${port}\n`);
}

/** The one password the demo login accepts (the example app's, documented in the README). */
export const DEMO_PASSWORD = 'rockstar';
