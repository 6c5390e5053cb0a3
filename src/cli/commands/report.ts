import type { Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { ReportHtmlFlags, ReportMergeFlags } from './report-run.js';

export function registerReport(program: Command, registry: Registry): void {
  const commands = () => import('./report-run.js');
  const report = program
    .command('report')
    .description('read, compare, merge and re-render the reports govctl writes (load.json, scan.json, ...)')
    .addHelpText('after', '\nReports are read and checked first: a missing file is exit 5, an invalid one or the wrong kind exit 2, naming the file.');

  report
    .command('show <file>')
    .description('summarise a report: for a load report its totals, endpoints, steps, thresholds and baseline')
    .addHelpText(
      'after',
      `
Exit codes: 0 shown, 2 invalid report, 5 no such file.

Examples:
  govctl report show reports/20260115T100000Z-1a2b3c4d/load.json
  govctl report show reports/20260115T100000Z-1a2b3c4d/load.json -o json | jq .totals.throughput_rps`,
    )
    .action(action(registry, async (file: string) => (await commands()).reportShowCommand(registry.app, file)));

  report
    .command('compare <baseline> <current>')
    .description('compare two load reports: the deltas of p95, p99, throughput and error rate, and the regressions')
    .addHelpText(
      'after',
      `
A regression: p95 up more than 10%, p99 up more than 15%, throughput down more than 10%, or the
error rate up more than 1 point.
Exit codes: 0 no regression, 1 regressions, 2 invalid or non-load report, 5 no such file.

Examples:
  govctl report compare baselines/stress.json reports/20260115T100000Z-1a2b3c4d/load.json
  govctl report compare last-week/load.json today/load.json -o json`,
    )
    .action(action(registry, async (baseline: string, current: string) => (await commands()).reportCompareCommand(registry.app, baseline, current)));

  report
    .command('merge <files...>')
    .description('merge the load reports of segments (shards) into one: histograms added, counts summed, seconds aligned, thresholds evaluated once')
    .option('--out <dir>', 'write the merged load.json, load.md and load.html under this directory', 'reports')
    .addHelpText(
      'after',
      `
The segments must come from one run (the same profile and scenario; see govctl load --segment):
each once, of one split. The merged files go to <dir>/<run-id>/load.{json,md,html}.
Exit codes: 0 merged and every threshold passed, 1 a threshold failed or a segment's run was
interrupted, 2 invalid reports or segments that do not belong together, 5 no such file.

Examples:
  govctl report merge shard-0/load.json shard-1/load.json --out reports/merged
  govctl report merge /reports/run/shards/*/load.json --out /reports/run/merged`,
    )
    .action(action(registry, async (files: string[], flags: ReportMergeFlags) => (await commands()).reportMergeCommand(registry.app, files, flags)));

  report
    .command('html <file>')
    .description('render a load report again as one self-contained HTML page (charts inline, no network)')
    .option('--out <file>', 'where to write it (default: load.html next to the report)')
    .addHelpText(
      'after',
      `
Exit codes: 0 written, 2 invalid or non-load report or unwritable destination, 5 no such file.

Examples:
  govctl report html reports/20260115T100000Z-1a2b3c4d/load.json
  govctl report html merged/load.json --out /tmp/run.html`,
    )
    .action(action(registry, async (file: string, flags: ReportHtmlFlags) => (await commands()).reportHtmlCommand(registry.app, file, flags)));
}
