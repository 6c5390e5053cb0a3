import { toSarif, type SarifLog } from '../../core/sarif.js';
import type { GateEvaluation } from '../types.js';
import { gateFindings } from './common.js';

/**
 * SARIF 2.1.0 of the findings-based gates (security.findings): the findings the evaluation
 * counted, once each, through the shared writer (the same rule ids and keyed fingerprints as
 * govctl scan and audit, so code scanning matches them across tools). Gates without findings
 * add nothing: a latency figure is not a code-scanning result.
 */
export function gateSarif(evaluation: GateEvaluation, options: { srcRoot?: string } = {}): SarifLog {
  const log = toSarif(
    gateFindings(evaluation).map((f) => f.finding),
    options,
  );
  // Which evaluation the results come from, for people reading the file later.
  const run = log.runs[0] as (typeof log.runs)[0] & { properties?: Record<string, unknown> };
  run.properties = { gates_file: evaluation.gates_file.name, result: evaluation.result, evaluated_at: evaluation.evaluated_at };
  return log;
}
