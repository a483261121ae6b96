/**
 * The Set-Cookie values one response carries. A request that writes its
 * session twice (a refresh, then an update) is issued two cookies of the
 * same name and scope; only the last means anything to a browser, so only
 * the last is sent. Cookies of other scopes (clearing values for a parent
 * domain or path) are kept side by side.
 */

/** "name|path|domain" of a Set-Cookie value: what a browser keys a cookie by. */
function cookieIdentity(setCookie: string): string {
  const semicolon = setCookie.indexOf(';');
  const eq = setCookie.indexOf('=');
  let end = semicolon === -1 ? setCookie.length : semicolon;
  if (eq !== -1 && eq < end) end = eq;
  const name = setCookie.slice(0, end).trim();
  let path = '';
  let domain = '';
  if (semicolon !== -1) {
    for (const attribute of setCookie.slice(semicolon + 1).split(';')) {
      const at = attribute.indexOf('=');
      if (at === -1) continue;
      const key = attribute.slice(0, at).trim().toLowerCase();
      if (key === 'path') path = attribute.slice(at + 1).trim();
      else if (key === 'domain') domain = attribute.slice(at + 1).trim().toLowerCase().replace(/^\./, '');
    }
  }
  return `${name}|${path}|${domain}`;
}

/** Appends `value`, replacing an earlier value of the same cookie name, Path and Domain (the later one moves to the end: the order they were issued in). */
export function appendReplacing(cookies: string[], value: string): void {
  const identity = cookieIdentity(value);
  for (let i = 0; i < cookies.length; i++) {
    if (cookieIdentity(cookies[i] as string) === identity) {
      cookies.splice(i, 1);
      break;
    }
  }
  cookies.push(value);
}
