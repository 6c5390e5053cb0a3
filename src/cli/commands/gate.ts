import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { action, type Registry } from '../command.js';
import type { GateFlags, GateInitFlags } from './gate-run.js';

export function registerGate(program: Command, registry: Registry): void {
  const commands = () => import('./gate-run.js');
  const gate = program
    .command('gate')
    .description('may this build ship? evaluate release gates over measured reports (load, chaos, scan, audit, coverage, docs)')
    .option('--gates <file|release>', 'the gate file, or "release" for the set shipped with govctl (G1..G8)', 'release')
    .option('--reports <dir>', 'where the reports are (searched 6 levels deep; the newest of each kind counts)', 'reports')
    .option('--baseline <dir>', 'earlier reports, for relative criteria such as "<=+10%"')
    .option('--strict', 'a warned gate fails too (exit 1)')
    .option('--junit <file>', 'also write JUnit XML: one testcase per gate')
    .option('--sarif <file>', 'also write SARIF 2.1.0 of the findings the security gates counted')
    .option('--codequality <file>', 'also write a GitLab code quality report (failed and warned gates, counted findings)')
    .option('--out <dir>', 'where the evaluation is kept: <dir>/<run-id>/gate.json (default: the --reports directory)')
    .option('--no-out', 'do not write gate.json')
    .addHelpText(
      'after',
      `
Every value is read from a report a govctl command wrote (or a coverage file, or measured live
for docs): the table names the report and its time. A gate whose input does not exist fails as
"not measured: <the command that measures it>", never with a default. Gate files: gates/README.md
in the package, or govctl gate init.

In CI: with GITHUB_STEP_SUMMARY set, a Markdown table is appended to it; with GITHUB_ACTIONS=true,
::error/::warning annotations are written to stderr (the runner reads workflow commands on both
streams), so stdout keeps only the result (-o json and -o sarif stay parseable).

Exit codes: 0 passed (warnings allowed unless --strict), 1 a gate failed (or warned, with
--strict), 2 invalid gate file, reports or flags, 130 interrupted.

Examples:
  govctl gate
  govctl gate --gates ci/gates.json --reports reports --baseline baseline-reports --strict
  govctl gate --junit gate-junit.xml --sarif gate.sarif --codequality gl-code-quality.json
  govctl gate -o json > gate.json
  govctl gate init --out ci/gates.json`,
    )
    .action(action(registry, async (flags: GateFlags) => (await commands()).gateCommand(registry.app, flags), ['table', 'json', 'sarif']));

  gate
    .command('init')
    .description('write a starter gate file (commented with $comment fields) and its JSON Schema beside it')
    .option('--out <file>', 'the gate file to write; the schema goes beside it as <name>.schema.json', 'govctl-gates.json')
    .option('--force', 'replace existing files')
    .addHelpText(
      'after',
      `
The starter is the release set's shape with warning levels, a relative criterion, a coverage
override, key gates and weights shown once each. Its "$schema" names the sidecar schema, so
editors complete and check it.

Exit codes: 0 written, 2 a file exists (without --force) or cannot be written.

Examples:
  govctl gate init
  govctl gate init --out ci/gates.json --force`,
    )
    .action(
      action(registry, async (flags: GateInitFlags) => {
        // The program reads options past a subcommand's name, so `gate init --out F` sets gate's own --out: take it from there.
        if (gate.getOptionValueSource('out') === 'cli') {
          const out = gate.opts<{ out: string | false }>().out;
          if (out === false) throw new UsageError('--no-out applies to govctl gate (the evaluation), not gate init');
          flags = { ...flags, out };
        }
        return (await commands()).gateInitCommand(registry.app, flags);
      }),
    );
}
