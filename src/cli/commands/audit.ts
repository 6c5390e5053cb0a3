import { Option, type Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { AuditFlags } from './audit-run.js';

export function registerAudit(program: Command, registry: Registry): void {
  program
    .command('audit')
    .description('SBOM (CycloneDX), offline vulnerability matching, live API security probes and config hardening, as one findings report')
    .option('--sbom [file]', 'build a CycloneDX SBOM from the lockfiles in --dir; with a file, read that SBOM instead (for --vulns)')
    .option('--dir <dir>', 'the project whose lockfiles --sbom and --vulns read (package-lock.json, requirements*.txt, poetry.lock, Pipfile.lock, uv.lock)', '.')
    .addOption(new Option('--spec <version>', 'CycloneDX specification version').choices(['1.6', '1.5']).default('1.6'))
    .option('--reproducible', 'no timestamp or serial number, everything sorted: the same lockfiles give the same bytes')
    .option('--vulns', 'match the components against OSV advisories from --osv-db (offline)')
    .option('--osv-db <path>', 'a directory of OSV JSON files, or an ecosystem all.zip as published for offline use')
    .option('--api [url]', 'probe a live governance server (default: the configured server, else the embedded one)')
    .option('--allow-remote', '--api: allow probing a host that is not loopback (at most a few hundred requests)')
    .option('--config <file>', 'check a governance server configuration (JSON, YAML or .env) for hardening')
    .option('--environment <name>', '--config: the environment it is for; production turns fallbacks, fake backends, SQLite and debug flags into findings')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this remains').choices(['critical', 'high', 'medium', 'low', 'info', 'none']).default('high'))
    .option('--baseline <file>', 'do not report findings recorded in this baseline')
    .option('--write-baseline <file>', "record this audit's findings as the new baseline")
    .option('--out <dir>', 'where reports go: <dir>/<run-id>/audit.json (+ sbom.cdx.json)', 'reports')
    .addHelpText(
      'after',
      `
Flags combine in one run. A step that cannot run (no lockfile, no --osv-db, server unreachable)
is recorded in audit.json as "not run" with the reason, and the audit does not pass: it is never
counted as clean. Findings share one model with govctl scan (-o sarif for code scanning, keyed
fingerprints for --baseline; see govctl scan secrets --help).

--api sends at most a few hundred requests, to loopback unless --allow-remote. With an admin key
(a context, GOVCTL_ADMIN_KEY, or the embedded server) it also creates a user key for the probes
that need one, and revokes it afterwards.

Exit codes: 0 every step ran and nothing at or above --fail-on, 1 findings, 2 bad input or a step
that could not run, 3 unreachable, 130 interrupted.

Examples:
  govctl audit --sbom --reproducible
  govctl audit --sbom --vulns --osv-db ~/osv/npm-all.zip
  govctl audit --vulns --sbom sbom.cdx.json --osv-db osv/
  govctl audit --api http://127.0.0.1:8080
  govctl audit --config config/production.yaml --environment production
  govctl audit --sbom --vulns --osv-db osv/ --api --config .env -o sarif > audit.sarif`,
    )
    .action(
      action(
        registry,
        async (flags: AuditFlags) => (await import('./audit-run.js')).auditCommand(registry.app, flags),
        ['table', 'json', 'sarif'],
      ),
    );
}
