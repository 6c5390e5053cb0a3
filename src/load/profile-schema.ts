import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDuration, parseRate } from '../core/duration.js';
import { InvalidInputError, messageOf } from '../core/errors.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import { isBareName } from './data-files.js';
import { parseThresholdSpec } from './thresholds.js';
import type { Analysis, LoadModel, ResolvedProfile, StagePlan } from './types.js';

/** A profile file as written (profiles/*.json); resolveProfile() turns it into a ResolvedProfile. */
export interface ProfileFile {
  $schema?: string;
  name: string;
  description?: string;
  model: LoadModel;
  start?: number;
  stages: Array<{ duration: string; vus?: number; rate?: number; ramp?: boolean; label?: string }>;
  warmup?: string;
  max_vus?: number;
  keys?: number;
  scenario?: string;
  thresholds?: Record<string, string[]>;
  analyses?: Analysis[];
  timeout?: string;
  embedded?: { rate_limit?: string; sync?: 'full' | 'normal'; max_connections?: number };
}

export const ANALYSES: readonly Analysis[] = ['steps', 'drift', 'memory', 'throttling'];

export const PROFILE_DEFAULTS = {
  start: 0,
  warmup: '0s',
  keys: 10,
  scenario: 'governance-mix',
  timeout: '10s',
} as const;

export const profileFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'model', 'stages'],
  properties: {
    $schema: { type: 'string' },
    // Also names the baseline file (baselines/<name>.json): keep it file-name safe.
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 100 },
    description: { type: 'string' },
    model: { type: 'string', enum: ['closed', 'open'] },
    start: { type: 'number', minimum: 0 },
    stages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['duration'],
        properties: {
          duration: { type: 'string' },
          vus: { type: 'integer', minimum: 0 },
          rate: { type: 'number', minimum: 0 },
          ramp: { type: 'boolean' },
          label: { type: 'string', minLength: 1, maxLength: 100 },
        },
      },
    },
    warmup: { type: 'string' },
    max_vus: { type: 'integer', minimum: 1 },
    keys: { type: 'integer', minimum: 1, maximum: 10000 },
    scenario: { type: 'string', minLength: 1 },
    thresholds: {
      type: 'object',
      additionalProperties: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    },
    analyses: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...ANALYSES] } },
    timeout: { type: 'string' },
    embedded: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rate_limit: { type: 'string' },
        sync: { type: 'string', enum: ['full', 'normal'] },
        max_connections: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

let validateProfileFile: Validator<ProfileFile> | undefined;

/**
 * Open model with no max_vus: enough connections for the peak rate at 200 ms per request
 * (Little's law), at least 50, at most 1000.
 */
export function defaultMaxVus(peakRate: number): number {
  return Math.min(1000, Math.max(50, Math.ceil(peakRate * 0.2)));
}

function serveArgs(embedded: ProfileFile['embedded']): string[] {
  const args: string[] = [];
  if (embedded?.rate_limit !== undefined) args.push('--rate-limit', embedded.rate_limit);
  if (embedded?.sync !== undefined) args.push('--sync', embedded.sync);
  if (embedded?.max_connections !== undefined) args.push('--max-connections', String(embedded.max_connections));
  return args;
}

/**
 * Validates a parsed profile file and resolves it: durations to ms, defaults filled in, a
 * scenario path made absolute (relative to the profile file). Every problem is reported at once,
 * each with its JSON path; `source` is the file named in the message.
 */
export function resolveProfile(value: unknown, source: string): ResolvedProfile {
  validateProfileFile ??= compileSchema<ProfileFile>(profileFileSchema);
  const file = assertValid(validateProfileFile, value, source);
  const problems: string[] = [];
  const duration = (text: string, path: string, min: number): number => {
    try {
      const ms = parseDuration(text, 'duration');
      if (ms < min) problems.push(`${path}: must be at least ${min}ms, got "${text}"`);
      return ms;
    } catch (err) {
      problems.push(`${path}: ${messageOf(err)}`);
      return 0;
    }
  };

  const closed = file.model === 'closed';
  const levelField = closed ? 'vus' : 'rate';
  const otherField = closed ? 'rate' : 'vus';
  const stages: StagePlan[] = file.stages.map((stage, i) => {
    const path = `$.stages[${i}]`;
    const level = stage[levelField];
    if (level === undefined) {
      problems.push(`${path}: missing "${levelField}" (every stage of a ${file.model}-model profile needs ${closed ? 'a number of virtual users' : 'an arrival rate per second'})`);
    }
    if (stage[otherField] !== undefined) {
      problems.push(`${path}.${otherField}: "${otherField}" belongs to the ${closed ? 'open' : 'closed'} model; this profile's "model" is "${file.model}"`);
    }
    const plan: StagePlan = { duration_ms: duration(stage.duration, `${path}.duration`, 1), ramp: stage.ramp ?? false };
    if (closed) plan.vus = level ?? 0;
    else plan.rate = level ?? 0;
    if (stage.label !== undefined) plan.label = stage.label;
    return plan;
  });
  const start = file.start ?? PROFILE_DEFAULTS.start;
  if (closed && !Number.isInteger(start)) problems.push(`$.start: must be a whole number of virtual users in a closed-model profile, got ${start}`);
  const peak = Math.max(...stages.map((s) => (closed ? s.vus : s.rate) ?? 0));
  if (peak <= 0 && problems.length === 0) problems.push(`$.stages: every stage has ${levelField} 0; at least one must be above 0`);
  const warmupMs = duration(file.warmup ?? PROFILE_DEFAULTS.warmup, '$.warmup', 0);
  const timeoutMs = duration(file.timeout ?? PROFILE_DEFAULTS.timeout, '$.timeout', 1);
  if (file.embedded?.rate_limit !== undefined) {
    try {
      parseRate(file.embedded.rate_limit);
    } catch (err) {
      problems.push(`$.embedded.rate_limit: ${messageOf(err)}`);
    }
  }
  const thresholds = file.thresholds ?? {};
  try {
    parseThresholdSpec(thresholds, source);
  } catch (err) {
    // Its message is "<source> is invalid: $.thresholds...": keep the path and what was expected.
    const prefix = `${source} is invalid: `;
    const message = messageOf(err);
    problems.push(message.startsWith(prefix) ? message.slice(prefix.length) : message);
  }
  if (problems.length > 0) throw new InvalidInputError(`${source} is invalid: ${problems.join('; ')}`);

  const scenario = file.scenario ?? PROFILE_DEFAULTS.scenario;
  const profile: ResolvedProfile = {
    name: file.name,
    source,
    model: file.model,
    start,
    stages,
    warmup_ms: warmupMs,
    max_vus: file.max_vus ?? (closed ? peak : defaultMaxVus(peak)),
    keys: file.keys ?? PROFILE_DEFAULTS.keys,
    scenario: isBareName(scenario) || isAbsolute(scenario) ? scenario : resolve(dirname(source), scenario),
    thresholds,
    analyses: file.analyses ?? [],
    timeout_ms: timeoutMs,
    embedded_serve_args: serveArgs(file.embedded),
  };
  if (file.description !== undefined) profile.description = file.description;
  return profile;
}
