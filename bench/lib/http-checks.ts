/**
 * Before anything is timed, every HTTP contender proves it does what the
 * load will ask of it: logins set a cookie, /profile answers the session
 * and 401 without one, the cart route appends and clears. The same-JSON
 * ceiling proves it answers exactly what ours answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const LOGIN_BODY = JSON.stringify({ username: 'bench', password: 'rockstar' });
export const CART_BODY = JSON.stringify({ productId: 42 });

export interface LoggedIn {
  /** One Cookie request header per session, for the load. */
  readonly cookies: string[];
  /** The first login's Set-Cookie values, as the server sent them. */
  readonly setCookie: string[];
}

/** The Cookie request header a browser sends back for these Set-Cookie values. */
export function cookieHeaderOf(setCookie: readonly string[]): string {
  return setCookie.map((c) => (c.indexOf(';') === -1 ? c : c.slice(0, c.indexOf(';')))).join('; ');
}

async function login(origin: string): Promise<{ status: number; setCookie: string[] }> {
  const response = await fetch(`${origin}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LOGIN_BODY });
  await response.arrayBuffer();
  return { status: response.status, setCookie: response.headers.getSetCookie() };
}

/** `sessions` logins, each checked. */
export async function loginSessions(origin: string, sessions: number): Promise<LoggedIn> {
  const cookies: string[] = [];
  let first: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const { status, setCookie } = await login(origin);
    const cookie = cookieHeaderOf(setCookie);
    if (status !== 200 || cookie === '') throw new Error(`POST /login answered ${status} with Set-Cookie ${JSON.stringify(setCookie)}`);
    if (i === 0) first = setCookie;
    cookies.push(cookie);
  }
  return { cookies, setCookie: first };
}

/** /profile answers the login's session with the cookie and 401 without one. */
export async function checkProfile(origin: string, cookie: string): Promise<void> {
  const profile = await fetch(`${origin}/profile`, { headers: { cookie } });
  const text = await profile.text();
  let body: { username?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // reported below
  }
  if (profile.status !== 200 || body.username !== 'bench') throw new Error(`GET /profile with the login cookie answered ${profile.status} ${text.slice(0, 120)}`);
  const anonymous = await fetch(`${origin}/profile`);
  await anonymous.arrayBuffer();
  if (anonymous.status !== 401) throw new Error(`GET /profile without a cookie answered ${anonymous.status}, expected 401`);
}

/** POST /cart/items adds the product and DELETE /cart empties the cart, leaving it as it was (empty). Throws with what went wrong. */
export async function checkCart(origin: string, cookie: string): Promise<void> {
  const add = await fetch(`${origin}/cart/items`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: CART_BODY });
  const added = await add.text();
  const items = (() => {
    try {
      return (JSON.parse(added) as { items?: unknown }).items;
    } catch {
      return undefined;
    }
  })();
  if (add.status !== 200 || !Array.isArray(items) || !items.includes(42)) throw new Error(`POST /cart/items answered ${add.status} ${added.slice(0, 120)}`);
  const clear = await fetch(`${origin}/cart`, { method: 'DELETE', headers: { cookie } });
  const cleared = await clear.text();
  if (clear.status !== 200) throw new Error(`DELETE /cart answered ${clear.status} ${cleared.slice(0, 120)}`);
}

/** Hello world answers 200 with its text. */
export async function checkHello(origin: string): Promise<void> {
  const text = await (await fetch(`${origin}/profile`)).text();
  if (!text.startsWith('Hello')) throw new Error(`hello world answered ${JSON.stringify(text.slice(0, 40))}`);
}

interface Snapshot {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: string;
}

async function snapshot(origin: string, cookie: string): Promise<Snapshot> {
  const response = await fetch(`${origin}/profile`, { headers: { cookie } });
  const body = await response.text();
  // Date changes by the second; everything else must be the same bytes.
  const headers = [...response.headers.entries()].filter(([name]) => name !== 'date').sort(([a], [b]) => a.localeCompare(b));
  return { status: response.status, headers, body };
}

/**
 * The same-JSON ceiling answers what ours answers on a cache hit: the same
 * status, the same headers (but Date), a body of the same length with the
 * same fields in the same order and the same values but login_time (a
 * timestamp of the same length). Returns a description of the response.
 */
export async function checkSameResponse(ceilingOrigin: string, oursOrigin: string, cookie: string): Promise<string> {
  // Ours is read once before the compared read, so the compared one takes the warm path the load will take.
  await snapshot(oursOrigin, cookie);
  await sleep(10);
  const ours = await snapshot(oursOrigin, cookie);
  const ceiling = await snapshot(ceilingOrigin, cookie);
  const problems: string[] = [];
  if (ours.status !== ceiling.status) problems.push(`status ${ceiling.status} vs ours ${ours.status}`);
  if (JSON.stringify(ours.headers) !== JSON.stringify(ceiling.headers)) problems.push(`headers ${JSON.stringify(ceiling.headers)} vs ours ${JSON.stringify(ours.headers)}`);
  if (ours.body.length !== ceiling.body.length) problems.push(`body of ${ceiling.body.length} bytes vs ours ${ours.body.length}`);
  const a = JSON.parse(ours.body) as Record<string, unknown>;
  const b = JSON.parse(ceiling.body) as Record<string, unknown>;
  if (Object.keys(a).join() !== Object.keys(b).join()) problems.push(`fields ${Object.keys(b).join()} vs ours ${Object.keys(a).join()}`);
  for (const key of Object.keys(a)) if (key !== 'login_time' && a[key] !== b[key]) problems.push(`${key} ${JSON.stringify(b[key])} vs ours ${JSON.stringify(a[key])}`);
  if (problems.length > 0) throw new Error(`its response differs from ours: ${problems.join('; ')}`);
  return `${ours.status}, ${ours.headers.map(([k, v]) => `${k}: ${v}`).join(', ')}, ${ours.body.length}-byte body`;
}
