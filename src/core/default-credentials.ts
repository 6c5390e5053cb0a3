/**
 * Well-known default credentials: the one list that `audit --api` (does the server accept them?),
 * `audit --config` (is a configuration set to one?) and `scan secrets` (is one assigned in a file?)
 * share, so the three never disagree about what a default is.
 *
 * Admin keys: the governance server's documented default first, then what tutorials, compose
 * files and quick starts put there. All lower case; compare with isKnownDefaultCredential.
 */
export const DEFAULT_ADMIN_CREDENTIALS: readonly string[] = [
  'admin-secret-key-change-in-prod',
  'admin-secret-key',
  'admin-secret',
  'admin-key',
  'secret-admin-key',
  'dev-admin-key',
  'test-admin-key',
  'local-admin-key',
  'change-me-admin-key',
  'admin',
  'admin123',
  'administrator',
  'changeme',
  'change-me',
  'change_me',
  'changeit',
  'secret',
  'password',
  'default',
  'letmein',
  'supersecret',
  'dev-key',
  'test-key',
];

/** JWT / session signing secrets that frameworks, templates and tutorials ship with. */
export const DEFAULT_SIGNING_SECRETS: readonly string[] = [
  'secret',
  'secret-key',
  'secret_key',
  'secretkey',
  'your-secret-key',
  'your_secret_key',
  'your-secret-key-change-in-production',
  'change-this-secret',
  'changeme',
  'change-me',
  'jwt-secret',
  'jwt_secret',
  'jwtsecret',
  'my-secret',
  'mysecret',
  'supersecret',
  'super-secret-key',
  'dev-secret',
  'development',
  'insecure',
  'django-insecure',
  'keyboard cat',
];

const ADMIN = new Set(DEFAULT_ADMIN_CREDENTIALS);
const SIGNING = new Set(DEFAULT_SIGNING_SECRETS);

/**
 * True when `value` is a known default of that kind. Case and surrounding quotes/space are
 * ignored; Django's generated "django-insecure-..." keys count as defaults by their prefix.
 */
export function isKnownDefaultCredential(value: string, kind: 'admin' | 'signing' = 'admin'): boolean {
  const v = value.trim().replace(/^["']|["']$/g, '').toLowerCase();
  if (kind === 'admin') return ADMIN.has(v);
  return SIGNING.has(v) || v.startsWith('django-insecure');
}
