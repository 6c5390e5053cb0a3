import type { ReportEnvelope } from '../core/report.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import { SEVERITIES } from '../core/findings.js';
import { PROBE_NAMES } from '../chaos/types.js';
import type { InputKind } from './reports.js';

/**
 * The parts of scan, chaos, audit and release report data that gates read, checked when a report
 * is read so a hand-edited or truncated report fails with its file and JSON path named (exit 2)
 * instead of giving a wrong number. (Load reports are checked by load/report-schema.ts.)
 */

/**
 * What gates read from a `govctl.release/v1` report (written by `govctl release-check`). Every
 * field is optional: a release report without one leaves the gate that reads it "not measured".
 */
export interface ReleaseGateInputs {
  /** G7: seconds from a fresh install to the first successful run; null when the attempt failed (`bootstrap_reason` says why). */
  bootstrap_s?: number | null;
  bootstrap_reason?: string;
  /** G6: the target's /metrics and health endpoints. */
  observability?:
    | {
        status: 'measured';
        url: string;
        /** Series names /metrics must expose, and those it did not. */
        series_required: string[];
        series_missing: string[];
        /** Each health endpoint probed: ok when it answered 2xx with a health document. */
        health: Array<{ path: string; status: number | null; ok: boolean; error?: string }>;
      }
    | { status: 'not_measured'; reason: string };
}

const severity = { enum: [...SEVERITIES] };
const finding = { type: 'object', required: ['severity'], properties: { severity, rule: { type: 'string' }, category: { type: 'string' } } };
const nullableNum = { type: ['number', 'null'] };

const DATA_SCHEMAS: Record<Exclude<InputKind, 'load'>, object> = {
  scan: {
    type: 'object',
    required: ['kind', 'findings'],
    properties: { kind: { enum: ['secrets', 'patterns'] }, findings: { type: 'array', items: finding }, partial: { type: 'boolean' } },
  },
  audit: {
    type: 'object',
    required: ['steps', 'findings'],
    properties: {
      steps: {
        type: 'array',
        items: {
          type: 'object',
          required: ['step', 'status'],
          properties: { step: { enum: ['sbom', 'vulns', 'api', 'config'] }, status: { enum: ['completed', 'not_run', 'error', 'interrupted'] }, reason: { type: 'string' } },
        },
      },
      findings: { type: 'array', items: finding },
      sbom_file: { type: 'string', minLength: 1 },
      suppressed_by_baseline: { type: 'integer', minimum: 0 },
    },
  },
  chaos: {
    type: 'object',
    required: ['probes'],
    properties: {
      probes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['probe', 'status', 'recovery_s', 'budget_s', 'records_lost'],
          properties: {
            probe: { enum: [...PROBE_NAMES] },
            status: { enum: ['passed', 'failed', 'skipped', 'error', 'interrupted'] },
            reasons: { type: 'array', items: { type: 'string' } },
            recovery_s: nullableNum,
            budget_s: { type: 'number' },
            records_lost: nullableNum,
            records_acknowledged: nullableNum,
            records: { type: 'object', required: ['status'], properties: { status: { enum: ['measured', 'not_measured'] }, reason: { type: 'string' } } },
          },
        },
      },
    },
  },
  release: {
    type: 'object',
    properties: {
      bootstrap_s: { type: ['number', 'null'], minimum: 0 },
      bootstrap_reason: { type: 'string' },
      observability: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { enum: ['measured', 'not_measured'] },
          reason: { type: 'string' },
          series_required: { type: 'array', items: { type: 'string' } },
          series_missing: { type: 'array', items: { type: 'string' } },
          health: {
            type: 'array',
            items: { type: 'object', required: ['path', 'ok'], properties: { path: { type: 'string' }, status: nullableNum, ok: { type: 'boolean' } } },
          },
        },
      },
    },
  },
};

const validators = new Map<string, Validator<unknown>>();

/** Checks the data gates read of a scan, audit, chaos or release report; returns the report. */
export function checkReportData<T>(kind: Exclude<InputKind, 'load'>, path: string, report: ReportEnvelope<T>): ReportEnvelope<T> {
  let validate = validators.get(kind);
  if (!validate) {
    // Checked as part of the whole report, so a problem's JSON path reads $.data.probes[0]...
    validate = compileSchema({ type: 'object', required: ['data'], properties: { data: DATA_SCHEMAS[kind] } });
    validators.set(kind, validate);
  }
  assertValid(validate, report, `report ${path}`);
  return report;
}
