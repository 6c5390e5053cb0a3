/**
 * Every error the reference server answers with: status, FastAPI-compatible `detail`, a stable
 * machine `code`. Nothing else (no stack, no internal path) ever reaches a response body.
 */
export interface FieldError {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string | FieldError[],
    readonly code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '));
  }
}

const BEARER = { 'WWW-Authenticate': 'Bearer' };

export const ServerErrors = {
  missingApiKey: () => new HttpError(401, 'Missing API key', 'missing_api_key', BEARER),
  invalidApiKeyFormat: () => new HttpError(401, 'Invalid API key format', 'invalid_api_key_format', BEARER),
  invalidApiKey: () => new HttpError(401, 'Invalid API key', 'invalid_api_key', BEARER),
  apiKeyInactive: () => new HttpError(403, 'API key inactive', 'api_key_inactive'),
  adminRequired: () => new HttpError(403, 'Admin access required', 'admin_required'),
  rateLimited: (limit: number, windowSeconds: number, retryAfter: number) =>
    new HttpError(429, `Rate limit exceeded: ${limit} requests per ${windowSeconds} seconds`, 'rate_limited', {
      'Retry-After': String(retryAfter),
    }),
  forbiddenFields: (fields: string[]) =>
    new HttpError(400, `Request contains forbidden content fields: ${fields.join(', ')}`, 'forbidden_content_fields'),
  validation: (errors: FieldError[]) => new HttpError(422, errors, 'validation_error'),
  notFound: (what = 'Not Found') => new HttpError(404, what, 'not_found'),
  conflict: (detail: string) => new HttpError(409, detail, 'conflict'),
  bodyTooLarge: (limit: number) => new HttpError(413, `Request body too large (limit ${limit} bytes)`, 'body_too_large'),
  // Retry-After: health probes the database every second, so that is when trying again can help.
  auditUnavailable: () =>
    new HttpError(503, 'Audit log unavailable: the decision could not be recorded, so it was not returned', 'audit_log_unavailable', {
      'Retry-After': '1',
    }),
  // A write the database refused for lack of space (SQLITE_FULL, ENOSPC): nothing was changed,
  // and the same request can succeed once space is freed, hence 503 + Retry-After, not a 500.
  storageFull: () =>
    new HttpError(503, 'The server cannot write its database now (disk full); nothing was changed', 'storage_full', {
      'Retry-After': '1',
    }),
  unsupportedMediaType: () => new HttpError(415, 'Unsupported Media Type: send the body as application/json', 'unsupported_media_type'),
  preRestoreBackupFailed: (diskFull: boolean) =>
    new HttpError(
      diskFull ? 507 : 500,
      `Restore refused: the backup of the current state could not be written${diskFull ? ' (disk full)' : ''}; nothing was changed`,
      'pre_restore_backup_failed',
    ),
  internal: () => new HttpError(500, 'Internal server error', 'internal_error'),
};
