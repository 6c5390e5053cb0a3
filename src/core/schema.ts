import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { InvalidInputError } from './errors.js';

/** One Ajv for all of govctl's data files: every error reported, no coercion, strict schemas. */
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });

export type Schema<T> = JSONSchemaType<T>;

export interface Validator<T> {
  (value: unknown): value is T;
  errors?: ValidateFunction['errors'];
}

export function compileSchema<T>(schema: JSONSchemaType<T> | object): Validator<T> {
  return ajv.compile<T>(schema as JSONSchemaType<T>) as Validator<T>;
}

/** "/contexts/prod/url" -> "$.contexts.prod.url": how a user reads a JSON path. */
export function jsonPath(instancePath: string): string {
  if (instancePath === '') return '$';
  return (
    '$' +
    instancePath
      .split('/')
      .slice(1)
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
      .join('')
  );
}

export function describeSchemaError(error: ErrorObject): string {
  const path = jsonPath(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return `${path}: missing required field "${String(error.params['missingProperty'])}"`;
    case 'additionalProperties':
      return `${path}: unknown field "${String(error.params['additionalProperty'])}"`;
    case 'enum':
      return `${path}: must be one of ${(error.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${path}: ${error.message ?? 'is invalid'}`;
  }
}

/** Validates `value` or throws an InvalidInputError that names the source and every bad field. */
export function assertValid<T>(validate: Validator<T>, value: unknown, source: string): T {
  if (validate(value)) return value;
  const problems = (validate.errors ?? []).map(describeSchemaError);
  throw new InvalidInputError(`${source} is invalid: ${problems.join('; ')}`);
}
