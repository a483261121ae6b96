// Types for scripts/package-consumer.mjs, which stays plain JavaScript so that scripts/measure-package.mjs runs without tsx.
export declare const REPO_ROOT: string;
export declare const OLDEST_TYPESCRIPT: { readonly version: string; readonly integrity: string };

export interface PackReport {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly integrity: string;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

export declare function repoManifest(): Record<string, unknown>;
export declare function packTarball(destination: string): Promise<{ tarball: string; report: PackReport }>;
export declare function consumerLockfile(tarball: string, peers?: readonly string[], name?: string): object;
export declare function installConsumer(
  dir: string,
  tarball: string,
  extra?: Record<string, unknown>,
  peers?: readonly string[],
): Promise<{ dir: string; seconds: number; output: string }>;
export declare function oldestTypeScriptCompiler(): Promise<string>;
