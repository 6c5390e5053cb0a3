import { fileURLToPath } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import { SEVERITIES } from '../core/findings.js';
import { readJsonFile } from '../core/json-file.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import { PROBE_NAMES } from '../chaos/types.js';
import { criteriaText, hasRelative, parseCriterion } from './criteria.js';
import { DOC_DEFAULTS } from './docs.js';
import { METRICS } from './metrics.js';
import type { FilterKey } from './metric-types.js';
import { SECURITY_SOURCES, type CriteriaSets, type Criterion, type DocRequirement, type GateFile, type GateSpec, type MetricFilter, type ObjectiveSpec } from './types.js';

/**
 * Gate files: JSON validated with ajv (every error names the file, JSON path and field), then
 * normalised and checked by small rules (as changesets checks its config): unique ids, metric
 * filters, criteria parsed at load time, relative criteria only where a baseline exists. A gate
 * is either one objective written inline (`metric`, `pass`, filters) or a list of `objectives`.
 */

/** The gate set shipped with govctl (package root /gates; this module sits two levels below it). */
export const RELEASE_GATES_FILE = fileURLToPath(new URL('../../gates/release.json', import.meta.url));

type RawCriteria = Array<string | string[]>;
interface RawDoc {
  name?: string;
  path: string | string[];
  heading?: string;
  min_bytes?: number;
  min_prose_lines?: number;
  min_headings?: number;
  min_section_lines?: number;
}
interface RawObjective {
  metric?: string;
  pass?: RawCriteria;
  warning?: RawCriteria;
  profile?: string;
  endpoint?: string;
  probe?: MetricFilter['probe'];
  severity?: MetricFilter['severity'];
  sources?: MetricFilter['sources'];
  path?: string;
  exclude?: string[];
  files?: string[];
  docs?: RawDoc[];
  overrides?: Array<{ path: string; pass: RawCriteria; warning?: RawCriteria }>;
}
interface RawGate extends RawObjective {
  id: string;
  name: string;
  description?: string;
  key?: boolean;
  level?: 'error' | 'warn';
  weight?: number;
  objectives?: RawObjective[];
}
interface RawGateFile {
  name?: string;
  description?: string;
  total_score?: { pass: string | number; warning: string | number };
  gates: RawGate[];
}

const comment = { type: 'string' };
const criteria = { type: 'array', minItems: 1, items: { type: ['string', 'array'], minItems: 1, items: { type: 'string' } } };
const nonEmpty = { type: 'string', minLength: 1 };
const count = { type: 'integer', minimum: 0 };
const percent = { type: ['string', 'number'], pattern: '^\\d+(\\.\\d+)?%$', minimum: 0, maximum: 100 };

const FILTER_KEYS: readonly FilterKey[] = ['profile', 'endpoint', 'probe', 'severity', 'sources', 'path', 'exclude', 'files', 'docs'];

const objectiveProperties = {
  $comment: comment,
  metric: { enum: [...METRICS.keys()] },
  pass: criteria,
  warning: criteria,
  profile: nonEmpty,
  endpoint: nonEmpty,
  probe: { enum: [...PROBE_NAMES] },
  severity: { enum: [...SEVERITIES] },
  sources: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SECURITY_SOURCES] } },
  path: nonEmpty,
  exclude: { type: 'array', items: nonEmpty },
  files: { type: 'array', minItems: 1, items: nonEmpty },
  docs: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      required: ['path'],
      additionalProperties: false,
      properties: {
        $comment: comment,
        name: nonEmpty,
        path: { type: ['string', 'array'], minLength: 1, minItems: 1, items: nonEmpty },
        heading: nonEmpty,
        min_bytes: count,
        min_prose_lines: count,
        min_headings: count,
        min_section_lines: count,
      },
    },
  },
  overrides: {
    type: 'array',
    minItems: 1,
    items: { type: 'object', required: ['path', 'pass'], additionalProperties: false, properties: { $comment: comment, path: nonEmpty, pass: criteria, warning: criteria } },
  },
};

const gateFileSchema = {
  type: 'object',
  required: ['gates'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    $comment: comment,
    name: nonEmpty,
    description: { type: 'string' },
    total_score: { type: 'object', required: ['pass', 'warning'], additionalProperties: false, properties: { $comment: comment, pass: percent, warning: percent } },
    gates: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'name'],
        additionalProperties: false,
        properties: {
          ...objectiveProperties,
          id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
          name: nonEmpty,
          description: { type: 'string' },
          key: { type: 'boolean' },
          level: { enum: ['error', 'warn'] },
          weight: { type: 'number', minimum: 0 },
          objectives: { type: 'array', minItems: 1, items: { type: 'object', required: ['metric', 'pass'], additionalProperties: false, properties: objectiveProperties } },
        },
      },
    },
  },
};

let validate: Validator<RawGateFile> | undefined;

/** The JSON Schema of gate files (for a sidecar `gates.schema.json` editors can use). */
export function gateFileJsonSchema(): object {
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'govctl gate file', ...structuredClone(gateFileSchema) };
}

/** Collects rule violations as "<json path>: <problem> (gate <id>)". */
class Problems {
  readonly list: string[] = [];
  add(path: string, problem: string, gate?: string): void {
    this.list.push(`${path}: ${problem}${gate ? ` (gate ${gate})` : ''}`);
  }
}

function parseCriteria(raw: RawCriteria, metric: string, path: string, gate: string, problems: Problems): CriteriaSets | undefined {
  const unit = METRICS.get(metric)!.unit;
  const allStrings = raw.every((item) => typeof item === 'string');
  if (!allStrings && raw.some((item) => typeof item === 'string')) {
    problems.add(path, 'mixes strings and lists: write a list of criteria (AND), or a list of lists (OR of ANDs)', gate);
    return undefined;
  }
  const lists = allStrings ? [raw as string[]] : (raw as string[][]);
  const sets: Criterion[][] = [];
  let ok = true;
  lists.forEach((list, i) => {
    const set: Criterion[] = [];
    list.forEach((text, j) => {
      const parsed = parseCriterion(text, unit);
      if (typeof parsed === 'string') {
        problems.add(allStrings ? `${path}[${j}]` : `${path}[${i}][${j}]`, parsed, gate);
        ok = false;
      } else set.push(parsed);
    });
    sets.push(set);
  });
  return ok ? { sets, text: criteriaText(sets) } : undefined;
}

function normaliseDoc(doc: RawDoc): DocRequirement {
  const paths = Array.isArray(doc.path) ? doc.path : [doc.path];
  return {
    name: doc.name ?? paths[0]!,
    paths,
    ...(doc.heading !== undefined ? { heading: doc.heading } : {}),
    min_bytes: doc.min_bytes ?? DOC_DEFAULTS.min_bytes,
    min_prose_lines: doc.min_prose_lines ?? DOC_DEFAULTS.min_prose_lines,
    min_headings: doc.min_headings ?? DOC_DEFAULTS.min_headings,
    min_section_lines: doc.min_section_lines ?? DOC_DEFAULTS.min_section_lines,
  };
}

function objective(raw: RawObjective, path: string, gate: string, problems: Problems): ObjectiveSpec[] {
  const metric = raw.metric!;
  const def = METRICS.get(metric)!;
  const filter: MetricFilter = {};
  for (const key of FILTER_KEYS) {
    if (raw[key] === undefined) continue;
    if (!def.required.includes(key) && !def.optional.includes(key)) {
      const takes = [...def.required, ...def.optional];
      problems.add(`${path}.${key}`, `metric ${metric} does not take "${key}" (${takes.length ? `it takes: ${takes.join(', ')}` : 'it takes no filter'})`, gate);
      continue;
    }
    if (key === 'docs') filter.docs = raw.docs!.map(normaliseDoc);
    else (filter as Record<string, unknown>)[key] = raw[key];
  }
  for (const key of def.required) if (raw[key] === undefined) problems.add(path, `metric ${metric} needs "${key}"`, gate);
  for (const [i, doc] of (raw.docs ?? []).entries()) {
    if (doc.heading === undefined) continue;
    try {
      new RegExp(doc.heading, 'i');
    } catch {
      problems.add(`${path}.docs[${i}].heading`, `"${doc.heading}" is not a regular expression`, gate);
    }
  }
  if (raw.overrides && !metric.startsWith('coverage.')) problems.add(`${path}.overrides`, `per-path overrides apply to coverage metrics only, not ${metric}`, gate);

  const pass = parseCriteria(raw.pass!, metric, `${path}.pass`, gate, problems);
  const warning = raw.warning ? parseCriteria(raw.warning, metric, `${path}.warning`, gate, problems) : undefined;
  if (!def.baseline && (hasRelative(pass) || hasRelative(warning))) {
    problems.add(path, `metric ${metric} is measured live and has no baseline: relative criteria (with + or -) cannot apply`, gate);
  }
  if (!pass || (raw.warning && !warning)) return [];
  const main: ObjectiveSpec = { metric, filter, pass, ...(warning ? { warning } : {}), path };
  const overrides = (raw.overrides ?? []).flatMap((o, i): ObjectiveSpec[] => {
    const at = `${path}.overrides[${i}]`;
    const p = parseCriteria(o.pass, metric, `${at}.pass`, gate, problems);
    const w = o.warning ? parseCriteria(o.warning, metric, `${at}.warning`, gate, problems) : undefined;
    if (!p || (o.warning && !w)) return [];
    const { exclude: _, path: __, ...rest } = filter;
    return [{ metric, filter: { ...rest, path: o.path }, pass: p, ...(w ? { warning: w } : {}), path: at }];
  });
  // As Jest's coverageThreshold: files an override judges leave the overall figure.
  if (overrides.length) main.filter = { ...filter, exclude: [...(filter.exclude ?? []), ...overrides.map((o) => o.filter.path!)] };
  return [main, ...overrides];
}

const INLINE_KEYS = ['metric', 'pass', 'warning', 'overrides', ...FILTER_KEYS] as const;

function gate(raw: RawGate, i: number, problems: Problems): GateSpec {
  const path = `$.gates[${i}]`;
  let objectives: ObjectiveSpec[] = [];
  if (raw.objectives) {
    const inline = INLINE_KEYS.filter((k) => raw[k] !== undefined);
    if (inline.length) problems.add(path, `has both "objectives" and ${inline.map((k) => `"${k}"`).join(', ')}: put the metric, its filter and criteria in one place`, raw.id);
    objectives = raw.objectives.flatMap((o, j) => objective(o, `${path}.objectives[${j}]`, raw.id, problems));
  } else if (raw.metric === undefined) problems.add(path, 'missing required field "metric" (or "objectives")', raw.id);
  else if (raw.pass === undefined) problems.add(path, 'missing required field "pass"', raw.id);
  else objectives = objective(raw, path, raw.id, problems);
  return {
    id: raw.id,
    name: raw.name,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    key: raw.key ?? false,
    level: raw.level ?? 'error',
    weight: raw.weight ?? 1,
    objectives,
  };
}

function percentOf(value: string | number): number {
  return typeof value === 'number' ? value : Number(value.slice(0, -1));
}

/** Validates and normalises a parsed gate file; `source` names it in errors. */
export function parseGateFile(value: unknown, source: string): GateFile {
  validate ??= compileSchema(gateFileSchema);
  const raw = assertValid(validate, value, `gate file ${source}`);
  const problems = new Problems();
  const seen = new Map<string, number>();
  const gates = raw.gates.map((g, i) => {
    const first = seen.get(g.id);
    if (first !== undefined) problems.add(`$.gates[${i}].id`, `"${g.id}" is already the id of $.gates[${first}]`);
    else seen.set(g.id, i);
    return gate(g, i, problems);
  });
  const total = raw.total_score ? { pass: percentOf(raw.total_score.pass), warning: percentOf(raw.total_score.warning) } : { pass: 90, warning: 75 };
  if (total.pass > 100 || total.warning > 100) problems.add('$.total_score', 'thresholds are percentages of at most 100%');
  if (total.warning > total.pass) problems.add('$.total_score.warning', `${total.warning}% is above pass (${total.pass}%)`);
  if (problems.list.length) throw new InvalidInputError(`gate file ${source} is invalid: ${problems.list.join('; ')}`);
  return { source, name: raw.name ?? 'gates', ...(raw.description !== undefined ? { description: raw.description } : {}), total_score: total, gates };
}

/**
 * Loads a gate file: "release" is the set shipped with govctl (gates/release.json); anything
 * else is a path resolved against cwd. Every problem is an InvalidInputError (exit 2) naming the
 * file, the JSON path and the field.
 */
export async function loadGateFile(nameOrPath: string, options: { cwd: string }): Promise<GateFile> {
  if (nameOrPath.trim() === '') throw new InvalidInputError('empty gate file name: give "release" or a path');
  const file = nameOrPath === 'release' ? RELEASE_GATES_FILE : isAbsolute(nameOrPath) ? nameOrPath : resolve(options.cwd, nameOrPath);
  return parseGateFile(await readJsonFile(file, 'gate file'), file);
}
