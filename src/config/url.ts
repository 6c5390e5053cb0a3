/** Server URLs as govctl compares them (credential redaction is in core/url-credentials.ts). */

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
