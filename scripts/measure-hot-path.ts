/**
 * The example's GET /profile as the manager sees it, without HTTP: what a
 * cache hit costs per request, in-process (tinybench). The seed's middleware
 * (getSessionFromCookie, isValid, refresh) then the handler's JSON, against
 * the same JSON from a constant object (the ceiling of this part).
 *
 *   node --import tsx scripts/measure-hot-path.ts [--store cache|filesystem] [--time 1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createSessionManager, type SessionContext } from '../src/index.ts';

const { values } = parseArgs({ options: { store: { type: 'string', default: 'cache' }, time: { type: 'string', default: '1000' } } });
const dir = mkdtempSync(join(tmpdir(), 'rockstar-hot-'));
const manager = await createSessionManager({
  storageType: values.store as 'cache' | 'filesystem',
  filesystemPath: dir,
  encryptionKey: Buffer.alloc(32, 7),
  cookieSecure: false,
  cleanupInterval: 0,
});
const setCookies: string[] = [];
const login: SessionContext = { userId: 'u-1', ipAddress: '127.0.0.1', userAgent: 'bench', appendSetCookie: (v) => void setCookies.push(v) };
const created = await manager.create(login);
Object.assign(created.data, { user_id: 'u-0123456789abcdef', username: 'bench', roles: ['user'], login_time: new Date() });
await manager.regenerate(login, created);
const cookieHeader = setCookies.at(-1)!.split(';')[0]!;

class Ctx implements SessionContext {
  cookieHeader: string | undefined;
  userAgent: string | undefined = 'wrk';
  setCookies: string[] | null = null;
  constructor(cookie: string) {
    this.cookieHeader = cookie;
  }
  appendSetCookie(value: string): void {
    (this.setCookies ??= []).push(value);
  }
}

const constant = { user_id: 'u-0123456789abcdef', username: 'bench', login_time: new Date() };
let sink = 0;
const bench = new Bench({ time: Number(values.time), warmupTime: 300 });
bench
  .add('ceiling: JSON of a constant object', () => {
    sink += JSON.stringify(constant).length;
  })
  .add('async: getSessionFromCookie + isValid + refresh + JSON', async () => {
    const ctx = new Ctx(cookieHeader);
    const session = await manager.getSessionFromCookie(ctx);
    if (!(await manager.isValid(session))) throw new Error('invalid');
    await manager.refresh(ctx, session);
    const { user_id, username, login_time } = session.data;
    sink += JSON.stringify({ user_id, username, login_time }).length;
  })
  .add('sync: peekSessionFromCookie + JSON', () => {
    const ctx = new Ctx(cookieHeader);
    const session = manager.peekSessionFromCookie(ctx);
    if (!session) throw new Error('not a hit');
    const { user_id, username, login_time } = session.data;
    sink += JSON.stringify({ user_id, username, login_time }).length;
  });
await bench.run();
console.table(bench.table());
console.log(`(sink ${sink > 0})`);
await manager.close();
rmSync(dir, { recursive: true, force: true });
