import { isDeepStrictEqual } from 'node:util';
import type { ErrorClass, Expectation, RawResponse } from './types.js';

export interface Judgement {
  status: number;
  error?: ErrorClass;
  throttled: boolean;
  retryAfter?: boolean;
}

/**
 * What one response means for the run: a success, a throttled request (a 429 the scenario did
 * not ask for: the limiter engaging is not an error), or an error of some class.
 */
export function judge(expect: Expectation, transportError: ErrorClass | undefined, response: RawResponse | undefined): Judgement {
  if (transportError !== undefined || response === undefined) return { status: 0, error: transportError ?? 'other', throttled: false };
  const status = response.status;
  if (expect.status.includes(status)) {
    if (expect.json !== undefined && !bodyMatches(expect.json, response.body)) {
      return { status, error: 'expectation_failed', throttled: false };
    }
    return { status, throttled: false };
  }
  if (status === 429) return { status, throttled: true, retryAfter: response.retryAfter };
  if (status >= 500) return { status, error: 'server_error', throttled: false };
  if (status >= 400) return { status, error: 'unexpected_4xx', throttled: false };
  return { status, error: 'expectation_failed', throttled: false };
}

function bodyMatches(expected: Record<string, unknown>, body: Buffer | undefined): boolean {
  if (body === undefined) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  const fields = parsed as Record<string, unknown>;
  for (const [name, value] of Object.entries(expected)) {
    if (!Object.hasOwn(fields, name) || !isDeepStrictEqual(fields[name], value)) return false;
  }
  return true;
}
