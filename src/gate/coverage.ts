import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import { fileSystemError } from '../core/fs-errors.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import { pathMatcher } from './glob.js';
import { formatNumber, notMeasured, type Measurement, type MeasureContext, type MetricDef } from './metric-types.js';
import type { IndexedFile } from './reports.js';
import type { MetricFilter } from './types.js';

/**
 * G1 coverage, from an istanbul `coverage-summary.json` (vitest/jest/nyc `json-summary`
 * reporter) or an lcov file. The newest of: coverage files in the reports directory, and (for
 * the current run) coverage/coverage-summary.json and coverage/lcov.info under cwd; or exactly
 * the `files` a gate names. Percentages are recomputed from counts (covered / total x 100), per
 * file when a path filter or exclusions apply (per-path overrides, as Jest's coverageThreshold:
 * the overall figure leaves out the files an override judges).
 */

export type CoverageKind = 'lines' | 'statements' | 'functions' | 'branches';
type Counter = { total: number; covered: number };
type Counters = Partial<Record<CoverageKind, Counter>>;

export interface CoverageData {
  format: 'json-summary' | 'lcov';
  total: Counters;
  /** Paths relative to cwd, "/"-separated. */
  files: Array<{ path: string; counters: Counters }>;
}

export const COMMAND = 'npx vitest run --coverage --coverage.reporter=json-summary';
const DEFAULT_FILES = ['coverage/coverage-summary.json', 'coverage/lcov.info'];

const counter = { type: 'object', required: ['total', 'covered'], properties: { total: { type: 'number', minimum: 0 }, covered: { type: 'number', minimum: 0 } } };
const entry = { type: 'object', properties: { lines: counter, statements: counter, functions: counter, branches: counter } };
let validateSummary: Validator<Record<string, Counters>> | undefined;

function relativePath(path: string, cwd: string): string {
  return (isAbsolute(path) ? relative(cwd, path) : path).split(sep).join('/').replace(/^\.\//, '');
}

function parseSummary(text: string, file: string, cwd: string): CoverageData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`coverage summary ${file} is not valid JSON: ${(err as Error).message}`);
  }
  validateSummary ??= compileSchema({ type: 'object', required: ['total'], properties: { total: entry }, additionalProperties: entry });
  const summary = assertValid(validateSummary, value, `coverage summary ${file}`);
  const files = Object.entries(summary)
    .filter(([key]) => key !== 'total')
    .map(([key, counters]) => ({ path: relativePath(key, cwd), counters }));
  return { format: 'json-summary', total: summary['total']!, files };
}

const LCOV_PAIRS: Record<string, [CoverageKind, 'total' | 'covered']> = {
  LF: ['lines', 'total'],
  LH: ['lines', 'covered'],
  FNF: ['functions', 'total'],
  FNH: ['functions', 'covered'],
  BRF: ['branches', 'total'],
  BRH: ['branches', 'covered'],
};

function parseLcov(text: string, file: string, cwd: string): CoverageData {
  const files: CoverageData['files'] = [];
  let current: { path: string; counters: Counters } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('SF:')) {
      current = { path: relativePath(line.slice(3), cwd), counters: {} };
      files.push(current);
      return;
    }
    if (line === 'end_of_record') {
      current = undefined;
      return;
    }
    const match = /^([A-Z]+):(.*)$/.exec(line);
    const pair = match ? LCOV_PAIRS[match[1]!] : undefined;
    if (!match || !pair) return;
    const n = Number(match[2]);
    if (!current || !Number.isInteger(n) || n < 0) throw new InvalidInputError(`lcov file ${file}:${i + 1}: ${current ? `expected a count after ${match[1]}:, found "${match[2]}"` : `${match[1]} outside a record (no SF: before it)`}`);
    const [kind, field] = pair;
    const c = (current.counters[kind] ??= { total: 0, covered: 0 });
    c[field] = n;
  });
  if (files.length === 0) throw new InvalidInputError(`lcov file ${file} has no records (no SF: line)`);
  return { format: 'lcov', total: sum(files.map((f) => f.counters)), files };
}

function sum(list: Counters[]): Counters {
  const total: Counters = {};
  for (const counters of list) {
    for (const [kind, c] of Object.entries(counters) as Array<[CoverageKind, Counter]>) {
      const t = (total[kind] ??= { total: 0, covered: 0 });
      t.total += c.total;
      t.covered += c.covered;
    }
  }
  return total;
}

export async function readCoverage(file: string, cwd: string): Promise<CoverageData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fileSystemError(err, 'read the coverage file', file);
  }
  return basename(file).endsWith('.json') ? parseSummary(text, file, cwd) : parseLcov(text, file, cwd);
}

async function existing(paths: string[]): Promise<IndexedFile[]> {
  const found: IndexedFile[] = [];
  for (const path of paths) {
    try {
      const info = await stat(path);
      if (info.isFile()) found.push({ path, mtime: info.mtime });
    } catch {
      // absent: not a candidate
    }
  }
  return found;
}

/** The coverage file to read: the newest candidate. */
async function pick(filter: MetricFilter, ctx: MeasureContext): Promise<IndexedFile | undefined> {
  let candidates: IndexedFile[];
  if (ctx.baseline) candidates = ctx.index.coverage;
  else if (filter.files) candidates = await existing(filter.files.map((f) => resolve(ctx.cwd, f)));
  else candidates = [...ctx.index.coverage, ...(await existing(DEFAULT_FILES.map((f) => resolve(ctx.cwd, f))))];
  return [...candidates].sort((a, b) => b.mtime.getTime() - a.mtime.getTime())[0];
}

function scopeText(filter: MetricFilter): string {
  const parts = [];
  if (filter.path) parts.push(`of ${filter.path}`);
  if (filter.exclude?.length) parts.push(`excluding ${filter.exclude.join(', ')}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function coverageMetric(kind: CoverageKind): MetricDef {
  return {
    name: `coverage.${kind}_pct`,
    unit: '%',
    label: (f) => `${kind} coverage${scopeText(f)}`,
    required: [],
    optional: ['path', 'exclude', 'files'],
    baseline: true,
    kinds: [],
    async measure(filter, ctx): Promise<Measurement> {
      const file = await pick(filter, ctx);
      const where = filter.files && !ctx.baseline ? filter.files.join(', ') : `${ctx.dirLabel}${ctx.baseline ? '' : ` or ${DEFAULT_FILES.join(', ')}`}`;
      if (!file) return notMeasured(COMMAND, `no coverage-summary.json or lcov.info (any istanbul json-summary or lcov reporter) in ${where}`);
      const data = await readCoverage(file.path, ctx.cwd);
      const shown = relativePath(file.path, ctx.cwd);
      let counters = data.total;
      let files = data.files.length;
      if (filter.path !== undefined || filter.exclude?.length) {
        const include = filter.path !== undefined ? pathMatcher(filter.path) : () => true;
        const excluders = (filter.exclude ?? []).map(pathMatcher);
        const selected = data.files.filter((f) => include(f.path) && !excluders.some((m) => m(f.path)));
        if (selected.length === 0) return notMeasured(COMMAND, `no file in ${shown} matches${scopeText(filter)}`);
        counters = sum(selected.map((f) => f.counters));
        files = selected.length;
      }
      const c = counters[kind];
      if (!c) return notMeasured(COMMAND, `${shown} (${data.format}) has no ${kind} counts`);
      if (c.total === 0) return notMeasured(COMMAND, `${shown} counts no ${kind}${scopeText(filter)}`);
      const value = (c.covered / c.total) * 100;
      return {
        status: 'measured',
        value,
        description: `${kind}${scopeText(filter)}: ${c.covered} of ${c.total} covered in ${files} file${files === 1 ? '' : 's'} (${shown}, ${data.format})`,
        sources: [{ kind: 'file', path: file.path, run_id: null, finished_at: file.mtime.toISOString() }],
        detail: `${c.covered}/${c.total} ${kind}, ${formatNumber(value)}%`,
      };
    },
  };
}

export const COVERAGE_METRICS: readonly MetricDef[] = (['lines', 'statements', 'functions', 'branches'] as const).map(coverageMetric);
