import type { GateEvaluation } from '../types.js';
import { formatNumber } from '../metric-types.js';
import { OUTCOME_TEXT, gateTitle, sourceText, valueText } from './common.js';

/**
 * The evaluation as GitHub-flavoured Markdown, for $GITHUB_STEP_SUMMARY: a heading with the
 * result, one table row per objective (gate, value, criterion, result, detail), the score line.
 * Cell text is escaped so a reason or a path cannot break the table or inject markup.
 */

const ICON = { pass: '✅', warn: '⚠️', fail: '❌' } as const;

/** A table cell: one line, pipes and HTML-significant characters escaped. */
function cell(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/`/g, '\\`');
}

/** A code span in a table cell: pipes escaped (GFM reads them as cell borders even there). */
function code(text: string): string {
  return `\`${text.replace(/\r?\n/g, ' ').replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

export function gateMarkdown(evaluation: GateEvaluation, options: { cwd: string; strict?: boolean }): string {
  const e = evaluation;
  const lines = [
    `### govctl gate: ${cell(e.gates_file.name)} ${ICON[e.result]} ${OUTCOME_TEXT[e.result]}`,
    '',
    '| gate | value | criterion | result | detail |',
    '|---|---|---|---|---|',
  ];
  for (const gate of e.gates) {
    gate.objectives.forEach((o, i) => {
      const name = i === 0 ? `${gateTitle(gate)}${gate.key ? ' (key)' : ''}` : '';
      const source = o.source ? ` — ${sourceText(o.source, options.cwd)}, ${o.source.finished_at}` : '';
      lines.push(`| ${cell(name)} | ${cell(valueText(o))} | ${code(o.criteria)} | ${ICON[o.result]} ${OUTCOME_TEXT[o.result]} | ${cell(o.reason + source)} |`);
    });
  }
  const c = e.counts;
  lines.push(
    '',
    `**${OUTCOME_TEXT[e.result]}**: ${cell(e.reason.replace(/^(pass|warn|fail): /, ''))}`,
    '',
    `${c.pass} passed, ${c.warn} warned, ${c.fail} failed${c.not_measured ? ` (${c.not_measured} not measured)` : ''} of ${c.total}; score ${formatNumber(e.score)}%` +
      `${options.strict && e.result !== 'fail' && c.warn > 0 ? '; --strict: warnings fail' : ''}`,
    '',
  );
  return `${lines.join('\n')}\n`;
}
