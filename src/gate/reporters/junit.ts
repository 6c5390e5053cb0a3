import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { GateEvaluation } from '../types.js';
import { OUTCOME_TEXT, displayPath, failsUnder, gateReason, gateTitle, sourceText, valueText } from './common.js';

/**
 * JUnit XML of an evaluation, for CI test reports: one testsuite (the gate file), one testcase
 * per gate. A failed gate is a <failure> whose message is its reason ("not measured: ..." says
 * which command measures it); a warned gate passes with its reason in <system-out>, or fails
 * under `strict`. Built with junit-report-builder, so escaping and counts are the library's.
 */

// A CommonJS module whose module.exports is the builder (its typings say `export default`).
const junit = createRequire(import.meta.url)('junit-report-builder') as Builder;

export interface JunitOptions {
  cwd: string;
  /** Warned gates fail (govctl gate --strict). */
  strict?: boolean;
}

export function gateJunit(evaluation: GateEvaluation, options: JunitOptions): string {
  const builder = junit.newBuilder();
  const suite = builder
    .testSuite()
    .name(`govctl gate: ${evaluation.gates_file.name}`)
    .timestamp(new Date(evaluation.evaluated_at))
    .property('result', evaluation.result)
    .property('reason', evaluation.reason)
    .property('score', String(evaluation.score))
    .property('gates_file', displayPath(evaluation.gates_file.source, options.cwd))
    .property('reports_dir', displayPath(evaluation.reports_dir, options.cwd));
  for (const gate of evaluation.gates) {
    const testCase = suite
      .testCase()
      .className(`govctl.gate.${evaluation.gates_file.name}`)
      .name(gateTitle(gate))
      .property('result', gate.result)
      .property('key', String(gate.key))
      .property('weight', String(gate.weight));
    if (gate.source) testCase.file(sourceText(gate.source, options.cwd));
    const lines = gate.objectives.map(
      (o) => `${OUTCOME_TEXT[o.result]} ${o.label}: ${valueText(o)} (${o.criteria}); ${o.reason}${o.source ? ` [${sourceText(o.source, options.cwd)}, ${o.source.finished_at}]` : ''}`,
    );
    if (failsUnder(gate, options.strict === true)) {
      const type = !gate.measured ? 'not measured' : gate.result === 'warn' ? 'warning (strict)' : gate.key ? 'key gate failed' : 'gate failed';
      testCase.failure(gateReason(gate), type);
    }
    testCase.standardOutput(lines.join('\n'));
  }
  return builder.build();
}
