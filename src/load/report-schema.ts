import { readReport } from '../core/report.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import type { LoadReport, LoadReportData } from './types.js';

const num = { type: 'number' };
const count = { type: 'integer', minimum: 0 };
const nullableNum = { type: ['number', 'null'] };

const latency = {
  type: 'object',
  required: ['count', 'min', 'mean', 'stdev', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'],
  properties: { count, min: num, mean: num, stdev: num, p50: num, p90: num, p95: num, p99: num, p999: num, max: num },
};

const totals = {
  type: 'object',
  required: ['requests', 'ok', 'errors', 'error_classes', 'throttled', 'dropped', 'status_codes', 'duration_ms', 'throughput_rps', 'error_rate', 'latency_ms', 'service_ms', 'histograms'],
  properties: {
    requests: count,
    ok: count,
    errors: count,
    error_classes: { type: 'object', additionalProperties: count },
    throttled: count,
    throttled_without_retry_after: count,
    dropped: count,
    status_codes: { type: 'object', additionalProperties: count },
    duration_ms: num,
    throughput_rps: num,
    error_rate: { type: 'number', minimum: 0, maximum: 1 },
    latency_ms: latency,
    service_ms: latency,
    histograms: {
      type: 'object',
      required: ['latency', 'service'],
      properties: { latency: { type: 'string' }, service: { type: 'string' } },
    },
  },
};

const measuredOr = { type: ['object', 'null'], required: ['status'], properties: { status: { enum: ['measured', 'not_measured'] } } };

/**
 * The parts of `govctl.load/v1` data that readers (merge, compare, baselines, re-rendering, gates)
 * rely on. Checked on read so a hand-edited or truncated report fails with the JSON path named
 * instead of a wrong number further on.
 */
const loadDataSchema = {
  type: 'object',
  required: ['profile', 'scenario', 'options', 'keys', 'window', 'totals', 'endpoints', 'status_classes', 'intervals', 'stages', 'thresholds', 'audit', 'generator'],
  properties: {
    profile: {
      type: 'object',
      required: ['name', 'model', 'stages', 'thresholds'],
      properties: { name: { type: 'string' }, model: { enum: ['closed', 'open'] }, stages: { type: 'array' }, thresholds: { type: 'object' } },
    },
    scenario: {
      type: 'object',
      required: ['name', 'requests'],
      properties: { name: { type: 'string' }, requests: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
    },
    options: { type: 'object', required: ['seed'], properties: { seed: count } },
    keys: { type: 'object', required: ['count', 'source'], properties: { count, source: { enum: ['provisioned', 'provided', 'none'] } } },
    window: { type: 'object', required: ['started_at', 'ended_at', 'warmup_ms'], properties: { started_at: num, ended_at: num, warmup_ms: num } },
    totals,
    endpoints: { type: 'object', additionalProperties: totals },
    status_classes: { type: 'object', additionalProperties: totals },
    intervals: {
      type: 'array',
      items: {
        type: 'object',
        required: ['t', 'requests', 'errors', 'throttled', 'dropped', 'latency_ms', 'level', 'histogram'],
        properties: { t: num, requests: count, errors: count, throttled: count, dropped: count, latency_ms: { type: ['object', 'null'] }, level: num, histogram: { type: 'string' } },
      },
    },
    stages: { type: 'array', items: { type: 'object', required: ['index', 'label', 'level', 'totals'], properties: { index: count, label: { type: 'string' }, level: num, totals: { type: 'object' } } } },
    max_sustained_throughput_rps: nullableNum,
    drift: measuredOr,
    memory: measuredOr,
    audit: measuredOr,
    thresholds: {
      type: 'array',
      items: { type: 'object', required: ['metric', 'expression', 'value', 'passed'], properties: { metric: { type: 'string' }, expression: { type: 'string' }, value: nullableNum, passed: { type: 'boolean' } } },
    },
    generator: { type: 'object', required: ['bottleneck', 'reasons'], properties: { bottleneck: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } } } },
  },
};

let validate: Validator<LoadReport> | undefined;

/** Reads a load report: the envelope (kind load, v1) and the data readers depend on, both checked. */
export async function readLoadReport(path: string): Promise<LoadReport> {
  const { report } = await readReport<LoadReportData>(path, { kind: 'load' });
  // Checked as part of the whole report, so a problem's JSON path reads $.data.totals...
  validate ??= compileSchema({ type: 'object', required: ['data'], properties: { data: loadDataSchema } });
  assertValid(validate, report, `report ${path}`);
  return report;
}
