import type { FastifySchemaValidationError } from 'fastify';
import type { FieldError } from './errors.js';

/** Ajv's errors (as fastify hands them over) in FastAPI's `{loc, msg, type}` shape. */
export function toFieldErrors(errors: FastifySchemaValidationError[], context: string): FieldError[] {
  return errors.map((e) => {
    const loc: Array<string | number> = [context];
    for (const part of e.instancePath.split('/').slice(1)) loc.push(/^\d+$/.test(part) ? Number(part) : part);
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') {
      loc.push(String(params['missingProperty']));
      return { loc, msg: 'Field required', type: 'missing' };
    }
    if (e.keyword === 'additionalProperties') {
      loc.push(String(params['additionalProperty']));
      return { loc, msg: 'Unknown field', type: 'extra_forbidden' };
    }
    return { loc, msg: messageFor(e.keyword, params, e.message), type: e.keyword };
  });
}

function messageFor(keyword: string, params: Record<string, unknown>, fallback: string | undefined): string {
  switch (keyword) {
    case 'type':
      return `Input should be of type ${String(params['type'])}`;
    case 'minLength':
      return `String should have at least ${String(params['limit'])} character${params['limit'] === 1 ? '' : 's'}`;
    case 'maxLength':
      return `String should have at most ${String(params['limit'])} characters`;
    case 'enum':
      return `Input should be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minimum':
      return `Input should be greater than or equal to ${String(params['limit'])}`;
    case 'maximum':
      return `Input should be less than or equal to ${String(params['limit'])}`;
    case 'pattern':
      return 'Input has an invalid format';
    case 'minProperties':
      return 'At least one field is required';
    default:
      return fallback ?? 'Invalid value';
  }
}
