import { Argument, Option, type Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { ScanFlags, ScanRulesFlags } from './scan-run.js';

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
/** Globs are kept whole: a comma may be part of a file name. */
const repeat = (value: string, previous: string[]): string[] => [...previous, value];

function addScanOptions(command: Command): Command {
  return command
    .argument('[path]', 'file or directory to scan', '.')
    .option('--rules <file>', 'extra rules (JSON); a rule with a built-in id replaces it')
    .option('--disable <rule-id>', 'turn a rule off (repeatable, or comma-separated)', collect, [])
    .option('--baseline <file>', 'do not report findings recorded in this baseline')
    .option('--write-baseline <file>', "record this scan's findings as the new baseline")
    .option('--no-gitignore', 'scan files that .gitignore excludes too')
    .option('--exclude <glob>', 'leave these paths out, gitignore syntax relative to the scanned directory (repeatable; as .govctlignore; counted in the summary)', repeat, [])
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this remains').choices(['critical', 'high', 'medium', 'low', 'info', 'none']).default('high'))
    .option('--max-file-size <size>', 'skip larger files (said in the summary)', '10MB')
    .option('--workers <n>', 'worker threads (default: one per core)')
    .option('--out [dir]', 'write the report to <dir>/<run-id>/scan.json (default dir: reports; checked before the scan, never scanned)');
}

export function registerScan(program: Command, registry: Registry): void {
  const scan = program.command('scan').description('find leaked credentials and dangerous code patterns');
  const run = (kind: 'secrets' | 'patterns') =>
    action(
      registry,
      async (path: string, flags: ScanFlags) => (await import('./scan-run.js')).scanCommand(registry.app, kind, path, flags),
      ['table', 'json', 'sarif'],
    );

  addScanOptions(scan.command('secrets').description('find credentials: provider keys, private keys, tokens, passwords in URLs and assignments'))
    .option('--git', "also scan every commit's added lines (git history) and name the commit")
    .addHelpText(
      'after',
      `
Suppress one line with a "govctl:allow" comment on it. Findings show only the first 4 characters.
Leave paths out (deliberate test fixtures) with a .govctlignore file in the scanned directory
(gitignore syntax) or --exclude GLOB; the summary says how many were excluded.
Fingerprints (SARIF, baselines) are keyed: GOVCTL_FINGERPRINT_KEY, else .govctl/fingerprint-key
in the scanned directory (created on first use; give CI the same key to match a baseline).
The rule ids (for --disable): govctl scan rules secrets.

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad input or unreadable path, 130 interrupted.

Examples:
  govctl scan secrets .
  govctl scan secrets --git --fail-on medium
  govctl scan secrets -o sarif > secrets.sarif
  govctl scan secrets . --exclude 'test/fixtures/' --exclude '*.snap'
  govctl scan secrets --write-baseline .govctl-baseline.json   # accept what is there now
  govctl scan secrets --baseline .govctl-baseline.json          # report only new findings`,
    )
    .action(run('secrets'));

  addScanOptions(scan.command('patterns').description('find dangerous code in Python and JavaScript/TypeScript (eval, shell=True, unsafe yaml, SQL from strings, TLS off, ...)'))
    .addHelpText('after', `
Suppress one line with "govctl:allow" or "# nosec" / "// nosec" on it.
Leave paths out with a .govctlignore file in the scanned directory or --exclude GLOB (counted).
The rule ids (for --disable): govctl scan rules patterns.

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad input or unreadable path, 130 interrupted.

Examples:
  govctl scan patterns src --fail-on medium
  govctl scan patterns . --disable python-eval-exec -o sarif > patterns.sarif`)
    .action(run('patterns'));

  scan
    .command('rules')
    .description('list the rule ids (what --disable takes) with their severity and title')
    .addArgument(new Argument('[kind]', 'only these rules (default: both)').choices(['secrets', 'patterns']))
    .option('--rules <file>', 'include the rules of this file, as a scan with --rules would (needs the kind)')
    .addHelpText(
      'after',
      `
Examples:
  govctl scan rules
  govctl scan rules secrets -q                        # just the ids
  govctl scan rules patterns --rules my-rules.json -o json`,
    )
    .action(
      action(registry, async (kind: 'secrets' | 'patterns' | undefined, flags: ScanRulesFlags) =>
        (await import('./scan-run.js')).scanRulesCommand(registry.app, kind, flags),
      ),
    );
}
