import { InvalidInputError } from '../core/errors.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import type { LoadReport, LoadReportData } from './types.js';

/**
 * What merge reads from each shard's data, checked up front so a truncated or hand-edited report
 * fails with its file, JSON path and what was expected instead of a TypeError halfway through.
 */
const num = { type: 'number' };
const count = { type: 'number', minimum: 0 };
const str = { type: 'string' };
const histograms = {
  type: 'object',
  required: ['latency', 'service'],
  properties: { latency: str, service: str },
};
const counted = {
  requests: count,
  ok: count,
  errors: count,
  error_classes: { type: 'object' },
  throttled: count,
  throttled_without_retry_after: count,
  dropped: count,
  status_codes: { type: 'object', additionalProperties: count },
};
const totals = {
  type: 'object',
  required: [...Object.keys(counted), 'histograms'],
  properties: { ...counted, histograms },
};
const schema = {
  type: 'object',
  required: ['profile', 'scenario', 'options', 'keys', 'window', 'totals', 'endpoints', 'status_classes', 'intervals', 'stages', 'resources', 'audit', 'generator', 'findings'],
  properties: {
    profile: { type: 'object', required: ['name', 'thresholds', 'analyses'], properties: { name: str, thresholds: { type: 'object' }, analyses: { type: 'array' } } },
    scenario: { type: 'object', required: ['name', 'requests'], properties: { name: str, requests: { type: 'array' } } },
    options: { type: 'object' },
    keys: { type: 'object', required: ['count'], properties: { count: count } },
    window: { type: 'object', required: ['started_at', 'ended_at', 'warmup_ms'], properties: { started_at: num, ended_at: num, warmup_ms: num } },
    totals,
    endpoints: { type: 'object', additionalProperties: totals },
    status_classes: { type: 'object', additionalProperties: totals },
    intervals: {
      type: 'array',
      items: {
        type: 'object',
        required: ['t', 'requests', 'errors', 'throttled', 'dropped', 'level', 'histogram'],
        properties: { t: num, requests: count, errors: count, throttled: count, dropped: count, level: num, histogram: str },
      },
    },
    stages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'label', 'level', 'started_at', 'ended_at', 'totals', 'histograms'],
        properties: {
          index: { type: 'integer', minimum: 0 },
          label: str,
          level: num,
          started_at: num,
          ended_at: num,
          totals: { type: 'object', required: Object.keys(counted), properties: counted },
          histograms,
        },
      },
    },
    resources: { type: 'object', required: ['client', 'target', 'metrics'], properties: { client: { type: 'array' }, target: { type: 'object' }, metrics: { type: 'object' } } },
    audit: { type: 'object', required: ['status'], properties: { status: { enum: ['measured', 'not_measured'] } } },
    generator: { type: 'object', required: ['bottleneck', 'reasons'], properties: { bottleneck: { type: 'boolean' }, reasons: { type: 'array', items: str } } },
    findings: { type: 'array' },
  },
};

let validate: Validator<LoadReportData> | undefined;

/** "report 2 (run 2026...-ab12cd34)" or the file's label when the caller has one. */
export function shardName(report: LoadReport, index: number, labels?: readonly string[]): string {
  const label = labels?.[index];
  return label ? `${label} (run ${report.run?.id ?? '?'})` : `report ${index + 1} (run ${report.run?.id ?? '?'})`;
}

/** Refuses anything but load reports of one profile and scenario that carry their histograms. */
export function checkMergeInputs(reports: readonly LoadReport[], labels?: readonly string[]): void {
  if (reports.length === 0) throw new InvalidInputError('nothing to merge: expected at least one load report');
  validate ??= compileSchema<LoadReportData>(schema);
  reports.forEach((report, i) => {
    const name = shardName(report, i, labels);
    if (report.schema !== 'govctl.load/v1') {
      throw new InvalidInputError(`${name} is invalid: $.schema: expected "govctl.load/v1", found ${JSON.stringify(report.schema)}: only load reports can be merged`);
    }
    assertValid(validate!, report.data, `${name} (paths under $.data)`);
  });
  const first = reports[0]!.data;
  const requestNames = (d: LoadReportData): string => d.scenario.requests.map((r) => r.name).join('\u0000');
  reports.forEach((report, i) => {
    const d = report.data;
    const name = shardName(report, i, labels);
    const firstName = shardName(reports[0]!, 0, labels);
    if (d.profile.name !== first.profile.name) {
      throw new InvalidInputError(`cannot merge ${name} with ${firstName}: profile "${d.profile.name}" differs from "${first.profile.name}" (shards of one run share a profile)`);
    }
    if (d.scenario.name !== first.scenario.name || requestNames(d) !== requestNames(first)) {
      throw new InvalidInputError(`cannot merge ${name} with ${firstName}: scenario "${d.scenario.name}" differs from "${first.scenario.name}" (shards of one run share a scenario)`);
    }
  });
}
