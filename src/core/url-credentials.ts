/**
 * Credentials a user put in a URL (`http://user:pass@host`) are never shown back: every URL in a
 * warning, note or error is shown with its user-info replaced by `***`. Shared by the client
 * (which drops them before sending) and the cli and config (which show URLs).
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
