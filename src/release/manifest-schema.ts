import { compileSchema, describeSchemaError, type Validator } from '../core/schema.js';

/** The detached signature file, manifest.sig. */
export const SIGNATURE_SCHEMA = 'govctl.release-signature/v1';

export interface SignatureFile {
  schema: typeof SIGNATURE_SCHEMA;
  algorithm: 'ed25519' | 'rsa-pss-sha256';
  /** sha256 (hex) of the signing key's SPKI DER: names the key, proves nothing by itself. */
  public_key_sha256: string;
  /** base64 of the signature over the manifest's canonical JSON bytes. */
  signature: string;
}

const TIMESTAMP = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$';
const SHA256 = '^[0-9a-f]{64}$';
/** Relative posix, inside the directory: no leading /, drive, backslash, "." or ".." segment, empty segment. */
const SAFE_RELATIVE_PATH = '^(?!/)(?![A-Za-z]:)(?!.*\\\\)(?!(?:.*/)?\\.\\.?(?:/|$))(?!.*//)(?!.*/$)[^\\u0000]+$';

export const safeRelativePath = new RegExp(SAFE_RELATIVE_PATH, 'u');

const manifestSchema = {
  type: 'object',
  required: ['schema', 'govctl_version', 'version', 'created_at', 'started_at', 'finished_at', 'git', 'environment', 'steps', 'artifacts'],
  additionalProperties: false,
  properties: {
    schema: { const: 'govctl.release-manifest/v1' },
    govctl_version: { type: 'string', minLength: 1 },
    version: { type: 'string', minLength: 1 },
    created_at: { type: 'string', pattern: TIMESTAMP },
    started_at: { type: 'string', pattern: TIMESTAMP },
    finished_at: { type: 'string', pattern: TIMESTAMP },
    git: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['commit', 'dirty', 'root'],
          additionalProperties: false,
          properties: { commit: { type: 'string', pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' }, dirty: { type: 'boolean' }, root: { type: 'string' } },
        },
      ],
    },
    environment: {
      type: 'object',
      required: ['os', 'cpus', 'node'],
      additionalProperties: false,
      properties: { os: { type: 'string' }, cpus: { type: 'integer', minimum: 0 }, node: { type: 'string' } },
    },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'status', 'duration_ms'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          status: { enum: ['passed', 'failed', 'skipped', 'error'] },
          reason: { type: 'string' },
          duration_ms: { type: 'number', minimum: 0 },
        },
      },
    },
    artifacts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'sha256', 'size'],
        additionalProperties: false,
        properties: {
          path: { type: 'string', pattern: SAFE_RELATIVE_PATH },
          sha256: { type: 'string', pattern: SHA256 },
          size: { type: 'integer', minimum: 0 },
        },
      },
    },
    excluded: { type: 'array', items: { type: 'string', pattern: SAFE_RELATIVE_PATH } },
  },
};

const signatureSchema = {
  type: 'object',
  required: ['schema', 'algorithm', 'public_key_sha256', 'signature'],
  additionalProperties: false,
  properties: {
    schema: { const: SIGNATURE_SCHEMA },
    algorithm: { enum: ['ed25519', 'rsa-pss-sha256'] },
    public_key_sha256: { type: 'string', pattern: SHA256 },
    signature: { type: 'string', minLength: 1 },
  },
};

let manifestValidator: Validator<unknown> | undefined;
let signatureValidator: Validator<SignatureFile> | undefined;

/** The problems of a manifest value, as "$.artifacts[2].sha256: must match ..." lines; empty when valid. */
export function manifestProblems(value: unknown): string[] {
  manifestValidator ??= compileSchema(manifestSchema);
  return manifestValidator(value) ? [] : (manifestValidator.errors ?? []).map(describeSchemaError);
}

/** The problems of a manifest.sig value; empty when valid. */
export function signatureProblems(value: unknown): string[] {
  signatureValidator ??= compileSchema<SignatureFile>(signatureSchema);
  return signatureValidator(value) ? [] : (signatureValidator.errors ?? []).map(describeSchemaError);
}
