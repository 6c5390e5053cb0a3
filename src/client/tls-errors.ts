/**
 * TLS failures in plain words. Node hands over OpenSSL's internal strings ("0A00010B:SSL
 * routines:ssl3_get_record:wrong version number:../deps/openssl/...") and bare codes; an operator
 * needs to know which of a handful of things went wrong and what to do. Shared by the admin
 * client and the load engine's own request path, so both say the same thing.
 */

/** An https URL to a port that answered in something other than TLS (usually plain HTTP). */
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_HTTPS_PROXY_REQUEST',
]);

/** The chain does not lead to an authority this machine trusts. */
const UNTRUSTED: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'it is issued by a self-signed authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is issued by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is issued by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'it is issued by an unknown authority',
  CERT_UNTRUSTED: 'its authority is not trusted for this purpose',
};

/** Short phrases for the other handshake failures worth naming. */
const HANDSHAKE: Readonly<Record<string, string>> = {
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'no TLS version in common',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'no TLS version in common',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'no TLS version in common',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'the server refused the handshake (no cipher or version in common)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server asks for a client certificate (govctl does not send one)',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server asks for a client certificate (govctl does not send one)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the server asks for a client certificate (govctl does not send one)',
};

interface TlsLikeError {
  code?: string;
  message?: string;
  cert?: { subjectaltname?: string; subject?: { CN?: string | string[] } };
  cause?: TlsLikeError;
}

function tlsError(err: unknown): TlsLikeError | undefined {
  const e = err as TlsLikeError | undefined;
  if (typeof e?.code === 'string') return e;
  if (typeof e?.cause?.code === 'string') return e.cause;
  return undefined;
}

/** The names a certificate is for: its subjectAltName entries, else its common name. */
function certNames(cert: TlsLikeError['cert']): string | undefined {
  const alt = cert?.subjectaltname
    ?.split(',')
    .map((entry) => entry.trim().replace(/^(DNS|IP Address):/, ''))
    .filter((entry) => entry !== '');
  if (alt && alt.length > 0) return alt.join(', ');
  const cn = cert?.subject?.CN;
  return Array.isArray(cn) ? cn.join(', ') : cn;
}

function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO' || /CERT|_SIGNED_|ISSUER/.test(code);
}

/**
 * One plain line for a TLS failure talking to `host` ("127.0.0.1:8443"), or undefined when
 * `err` is not one. Never includes OpenSSL's internal error strings.
 */
export function describeTlsFailure(err: unknown, host: string): string | undefined {
  const e = tlsError(err);
  const code = e?.code;
  if (e === undefined || code === undefined) return undefined;
  const message = e.message ?? '';
  if (NOT_TLS.has(code) || (code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(message))) {
    return `TLS handshake with ${host} failed: the server does not speak TLS (try http://)`;
  }
  if (code === 'ECONNRESET' && message.includes('before secure TLS connection was established')) {
    return `TLS handshake with ${host} failed: the server closed the connection (does it speak TLS? try http://)`;
  }
  const untrusted = UNTRUSTED[code];
  if (untrusted !== undefined) return `certificate for ${host} not trusted: ${untrusted} (pass --ca-cert FILE)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = certNames(e.cert);
    return `certificate for ${host} does not match the name${names ? ` (it is for ${names})` : ''}`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `certificate for ${host} has expired (renew it on the server, or check this machine's clock)`;
  if (code === 'CERT_NOT_YET_VALID') return `certificate for ${host} is not valid yet (check this machine's clock)`;
  if (code === 'CERT_REVOKED') return `certificate for ${host} has been revoked`;
  if (!isTlsCode(code)) return undefined;
  const phrase = HANDSHAKE[code];
  if (phrase !== undefined) return `TLS handshake with ${host} failed: ${phrase}`;
  if (/CERT|SIGNED|ISSUER/.test(code)) return `certificate for ${host} rejected (${code})`;
  return `TLS handshake with ${host} failed (${code})`;
}
