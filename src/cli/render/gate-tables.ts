import type { ChalkInstance } from 'chalk';
import { formatNumber } from '../../gate/metric-types.js';
import { OUTCOME_TEXT, gateReason, gateTitle, sourceText, valueText } from '../../gate/reporters/common.js';
import type { GateEvaluation, GateOutcome } from '../../gate/types.js';
import { renderTable, styled, type TableOptions } from './output.js';
import { shortTime } from './time.js';

/**
 * `govctl gate` as a table: one row per objective (a gate with several shows its name once) with
 * the measured value, the criteria, the result, and the report it was read from and when; then
 * why each gate that did not pass did not, the score, and the overall result with its reason.
 */

export interface GateRenderOptions extends TableOptions {
  cwd: string;
  strict?: boolean;
  wide?: boolean;
}

export function renderGate(e: GateEvaluation, style: ChalkInstance, options: GateRenderOptions): string {
  const colour: Record<GateOutcome, (t: string) => string> = { pass: style.green, warn: style.yellow, fail: style.red.bold };
  const rows = e.gates.flatMap((gate) =>
    gate.objectives.map((o, i) => [
      i === 0 ? `${gateTitle(gate)}${gate.key ? ' (key)' : ''}` : '',
      o.label,
      o.measured ? valueText(o) : styled(style.red(valueText(o))),
      o.criteria,
      styled(colour[o.result](OUTCOME_TEXT[o.result])),
      sourceText(o.source, options.cwd),
      o.source ? shortTime(o.source.finished_at) : null,
      ...(options.wide ? [o.reason] : []),
    ]),
  );
  const head = ['GATE', 'OBJECTIVE', 'VALUE', 'CRITERION', 'RESULT', 'SOURCE', 'TIMESTAMP', ...(options.wide ? ['DETAIL'] : [])];
  const lines = [renderTable(head, rows, style, options).trimEnd(), ''];

  for (const gate of e.gates.filter((g) => g.result !== 'pass')) {
    lines.push(`${colour[gate.result](OUTCOME_TEXT[gate.result])} ${gateTitle(gate)}: ${gateReason(gate)}`);
  }
  if (e.gates.some((g) => g.result !== 'pass')) lines.push('');

  const c = e.counts;
  lines.push(
    `score ${formatNumber(e.score)}% (pass >= ${formatNumber(e.total_score.pass)}%, warning >= ${formatNumber(e.total_score.warning)}%): ` +
      `${c.pass} passed, ${c.warn} warned, ${c.fail} failed${c.not_measured ? ` (${c.not_measured} not measured)` : ''} of ${c.total}`,
  );
  const strictFails = options.strict === true && e.result !== 'fail' && c.warn > 0;
  const shown: GateOutcome = strictFails ? 'fail' : e.result;
  lines.push(
    `result: ${colour[shown](OUTCOME_TEXT[e.result])} ${e.reason.replace(/^(pass|warn|fail): /, '')}` +
      (strictFails ? ` ${style.red('(--strict: warnings fail)')}` : ''),
  );
  return `${lines.join('\n')}\n`;
}
