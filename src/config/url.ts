/**
 * Server URLs as govctl compares and shows them. Credentials a user put in a URL
 * (`http://user:pass@host`) are never shown back: every URL in a warning, note or error is
 * shown with its user-info replaced by `***`.
 */

/** `scheme://user:pass@` anywhere in a text: the user-info part of a URL. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;

/** `text` with the credentials of every URL in it replaced by `***`. */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

/** True when the URL carries a user name or password. */
export function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    USERINFO.lastIndex = 0;
    return USERINFO.test(url);
  }
}

/** The URL without user-info (unchanged when it has none or does not parse). */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactCredentials(url);
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/**
 * The origin a credential is bound to: scheme, host (lower case, IDN in ASCII) and port (the
 * default one dropped), so `HTTPS://Gov.example.com:443/api` and `https://gov.example.com` match.
 * Undefined when the text is not an http(s) URL.
 */
export function normalizedOrigin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    return parsed.origin;
  } catch {
    return undefined;
  }
}

/** True when both URLs name the same server (same normalised origin). */
export function sameServer(a: string, b: string): boolean {
  const origin = normalizedOrigin(a);
  return origin !== undefined && origin === normalizedOrigin(b);
}
