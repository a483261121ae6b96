/**
 * Visits every shard directory (<base>/ab/cd) with bounded concurrency,
 * asking `admit` about each directory entry on the way (a symlink or stray
 * is never descended into: admit cleans it up and answers false),
 * streaming the directory listings (opendir) so a store with a million files
 * never holds a million names, and yielding to the event loop between
 * shards so timers and requests keep running while cleanup works.
 */
import type { Dirent } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { nextTurn } from './batches.ts';
import { isErrno } from './fs-io.ts';

const SHARD_NAME = /^[0-9a-f]{2}$/;

/** Decides whether to descend into a shard-named entry; cleans up what it refuses. */
export type Admit = (path: string, entry: Dirent) => Promise<boolean>;

async function* shardDirs(base: string, admit: Admit): AsyncGenerator<string> {
  for await (const top of await opendirIfPresent(base)) {
    if (!SHARD_NAME.test(top.name)) continue;
    const topPath = join(base, top.name);
    if (!(await admit(topPath, top))) continue;
    for await (const sub of await opendirIfPresent(topPath)) {
      if (!SHARD_NAME.test(sub.name)) continue;
      const subPath = join(topPath, sub.name);
      if (await admit(subPath, sub)) yield subPath;
    }
  }
}

async function* noEntries(): AsyncGenerator<Dirent> {}

async function opendirIfPresent(dir: string): Promise<AsyncIterable<Dirent>> {
  try {
    return await opendir(dir, { bufferSize: 256 });
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return noEntries();
    throw error;
  }
}

/**
 * Runs `visit` on every shard directory, at most `concurrency` at a time.
 * Stops early (without error) when `stopped()` turns true. The first failure
 * of `visit` or of the walk rejects, after the visits in flight settle.
 */
export async function forEachShard(
  base: string,
  concurrency: number,
  stopped: () => boolean,
  admit: Admit,
  visit: (shardDir: string) => Promise<void>,
): Promise<void> {
  const shards = shardDirs(base, admit);
  let failure: unknown;
  let failed = false;
  let visited = 0;
  // Workers pull from one shared generator; an async generator queues concurrent next() calls, so each shard goes to one worker.
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed || stopped()) return;
      let next: IteratorResult<string>;
      try {
        next = await shards.next();
      } catch (error) {
        if (!failed) [failed, failure] = [true, error];
        return;
      }
      if (next.done) return;
      try {
        await visit(next.value);
      } catch (error) {
        if (!failed) [failed, failure] = [true, error];
        return;
      }
      if (++visited % 64 === 0) await nextTurn();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  await shards.return(undefined);
  if (failed) throw failure;
}
