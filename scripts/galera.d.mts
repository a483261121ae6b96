// Types for scripts/galera.mjs, which stays plain JavaScript so that scripts/run-tests.mjs can import it without tsx.
export declare const GALERA_PROVIDER: string;

export interface GaleraNode {
  readonly index: number;
  readonly port: number;
  readonly pid: number | undefined;
  readonly log: string;
  /** mysql://rockstar:rockstar@127.0.0.1:PORT/rockstar_test */
  readonly url: string;
  signal(name: NodeJS.Signals): void;
  /** kill -9, resolving once the process is gone. */
  kill(): Promise<void>;
  /** Starts the node again (after kill or stop) and resolves once it is Synced with the others. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface GaleraCluster {
  readonly dir: string;
  readonly name: string;
  readonly nodes: readonly GaleraNode[];
  readonly urls: readonly string[];
  /** Stops every node (by PID) and removes the directory. */
  stop(): Promise<void>;
}

export declare function haveGalera(): boolean;
export declare function startGaleraCluster(options?: { size?: number; dir?: string; detached?: boolean }): Promise<GaleraCluster>;
