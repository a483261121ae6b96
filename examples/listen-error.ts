/**
 * Why the app could not listen, in one line an operator can act on
 * ("cannot listen on 127.0.0.1:8080: the port is in use; set PORT to
 * another one"), instead of a stack trace.
 */
import { createServer } from 'node:net';

export class ListenError extends Error {
  readonly code: string | undefined;

  constructor(host: string, port: number, code: string | undefined) {
    super(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${reason(code, host)}`);
    this.code = code;
  }

  override get name(): string {
    return 'ListenError';
  }
}

function reason(code: string | undefined, host: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is in use (another process listens on it); stop that process or set PORT to another port';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges); set PORT to a port above 1023';
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine; set HOST to one that is (127.0.0.1, 0.0.0.0)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} does not resolve; set HOST to an address`;
    default:
      return code ? `the system refused (${code})` : 'the system refused, for a reason it did not give';
  }
}

/**
 * uWS reports only that listening failed, not why. Asking node to listen on
 * the same address says why (and the probe is closed at once). Undefined when
 * the probe itself succeeds: whatever held the port let go meanwhile.
 */
export function probeListenFailure(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
