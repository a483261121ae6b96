// Types for scripts/mariadb.mjs, which stays plain JavaScript so that scripts/run-tests.mjs can import it without tsx.
export declare const DATABASE: string;
export declare const USER: string;
export declare const PASSWORD: string;

export interface MariaDbBinaries {
  readonly server: string;
  readonly installDb: string;
}

export interface MariaDbServer {
  readonly dir: string;
  readonly datadir: string;
  readonly socket: string;
  readonly log: string;
  readonly port: number;
  readonly pid: number;
  /** mysql://rockstar:rockstar@127.0.0.1:PORT/rockstar_test */
  readonly url: string;
  readonly detached: boolean;
  signal(name: NodeJS.Signals): void;
  exited(): Promise<void>;
  stop(options?: { remove?: boolean }): Promise<void>;
}

export declare function findMariaDb(): MariaDbBinaries | null;
export declare function startMariaDb(options?: { dir?: string; port?: number; detached?: boolean }): Promise<MariaDbServer>;
