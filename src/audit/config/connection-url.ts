/** A database or Redis URL taken apart by hand: passwords in the field are not always percent-encoded. */
export interface ConnectionUrl {
  /** Lower case: "postgresql", "sqlite", "redis", "rediss", "postgresql+asyncpg". */
  scheme: string;
  user?: string;
  password?: string;
  /** Host (without port); "" for sqlite:///path and unix sockets. */
  host: string;
  /** Everything after the user-info: host, port, path, query. */
  rest: string;
}

export function parseConnectionUrl(url: string): ConnectionUrl | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const body = m[2]!;
  // The user-info ends at the last "@" before the path; a path or query may hold "@" too.
  let at = body.lastIndexOf('@');
  if (at >= 0 && /[/?#]/.test(body.slice(0, at))) {
    at = body.indexOf('@');
    if (/[/?#]/.test(body.slice(0, at))) at = -1;
  }
  const userinfo = at >= 0 ? body.slice(0, at) : undefined;
  const rest = at >= 0 ? body.slice(at + 1) : body;
  const authority = rest.split(/[/?#]/, 1)[0]!;
  const host = authority.startsWith('[') ? authority.slice(1, authority.indexOf(']')) : authority.replace(/:\d*$/, '');
  const out: ConnectionUrl = { scheme, host: host.toLowerCase(), rest };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    out.user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (colon >= 0) out.password = userinfo.slice(colon + 1);
  }
  return out;
}

/** "postgresql://app:****@db:5432/gov": the password masked, nothing else hidden. */
export function maskPassword(url: ConnectionUrl): string {
  const userinfo = url.user === undefined ? '' : `${url.user}${url.password !== undefined ? ':****' : ''}@`;
  return `${url.scheme}://${userinfo}${url.rest}`;
}

export function isSqliteUrl(value: string): boolean {
  const v = value.trim().toLowerCase();
  return /^sqlite(?:\+[a-z0-9]+)?:/.test(v) || (!v.includes('://') && /\.(?:db|sqlite3?)$/.test(v));
}

/** Loopback names and addresses, and Unix sockets (no host): traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === '' || h === 'localhost' || h.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}
