import { describe, expect, it } from 'vitest';
import { normalizedOrigin, sameServer } from '../../src/config/url.js';
import { hasCredentials, redactCredentials, withoutCredentials } from '../../src/core/url-credentials.js';

describe('server URLs', () => {
  it('redacts the credentials of every URL in a text', () => {
    expect(redactCredentials('cannot reach http://bob:s3cret@host:8080/x and https://tok@other')).toBe(
      'cannot reach http://***@host:8080/x and https://***@other',
    );
    expect(redactCredentials('invalid server URL "http://bob:pw@h:99999"')).toBe('invalid server URL "http://***@h:99999"');
    expect(redactCredentials('user@example.com at http://host/a@b')).toBe('user@example.com at http://host/a@b');
  });

  it('strips credentials from a URL and tells when there are some', () => {
    expect(hasCredentials('http://bob:pw@127.0.0.1:8080')).toBe(true);
    expect(hasCredentials('http://127.0.0.1:8080')).toBe(false);
    expect(withoutCredentials('http://bob:pw@127.0.0.1:8080/api')).toBe('http://127.0.0.1:8080/api');
    expect(withoutCredentials('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(withoutCredentials('http://bob:pw@h:99999')).toBe('http://***@h:99999');
  });

  it('compares normalised origins: scheme, host and port', () => {
    expect(normalizedOrigin('HTTPS://Gov.Example.com:443/api?x=1')).toBe('https://gov.example.com');
    expect(normalizedOrigin('ftp://gov.example.com')).toBeUndefined();
    expect(normalizedOrigin('nonsense')).toBeUndefined();
    expect(sameServer('http://127.0.0.1:8080', 'http://127.0.0.1:8080/')).toBe(true);
    expect(sameServer('http://a:pw@127.0.0.1:8080', 'http://127.0.0.1:8080')).toBe(true);
    expect(sameServer('http://127.0.0.1:8080', 'http://127.0.0.1:8081')).toBe(false);
    expect(sameServer('http://host', 'https://host')).toBe(false);
    expect(sameServer('nonsense', 'nonsense')).toBe(false);
  });
});
