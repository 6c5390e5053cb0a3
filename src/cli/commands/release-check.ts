import { Option, type Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { ReleaseCheckFlags } from './release-check-run.js';

export function registerReleaseCheck(program: Command, registry: Registry): void {
  const commands = () => import('./release-check-run.js');
  program
    .command('release-check')
    .description('may this build ship? run every check (scans, audit, load, chaos, observability, bootstrap, coverage), the gates, and a signed manifest')
    .option('--release-version <version>', 'the release version: the directory is <out>/release-<version> (default: package.json, else git describe, else a timestamp)')
    .option('--quick', 'shorter load runs (normal 10s, burst 5s), for CI')
    .option('--gates <file|release>', 'the gate file, or "release" for the set shipped with govctl (G1..G8)', 'release')
    .option('--strict', 'a warned gate fails too (exit 1)')
    .option('--sign-key <file>', 'sign manifest.json with this private key (PEM: Ed25519, or RSA with RSA-PSS)')
    .option('--osv-db <path>', 'also audit vulnerabilities against this offline OSV database (a directory or an all.zip)')
    .option('--config <file>', 'also audit this governance server configuration file')
    .option('--allow-remote', 'let the API audit probe a --url that is not on loopback')
    .option('--coverage <file>', 'the test run\'s coverage summary (json-summary or lcov.info) to copy in for G1 (default: coverage/coverage-summary.json when it exists)')
    .option('--skip-bootstrap', 'do not measure the fresh install (G7 then fails as not measured)')
    .option('--out <dir>', 'where the release directory goes', 'reports')
    .option('--force', 'replace an existing, non-empty release directory of the same version')
    .option('--verify <dir>', 'instead of running: check a release directory against its manifest.json (as govctl release verify)')
    .option('--public-key <file>', "--verify: the signer's public key (PEM); without it the signature is not checked")
    .addOption(new Option('--load-duration <duration>', 'the --duration of both load runs (tests)').hideHelp())
    .addOption(new Option('--bootstrap-timeout <duration>', 'the longest the bootstrap may take (default 15m)').hideHelp())
    .addHelpText(
      'after',
      `
Runs against the embedded reference server unless --url (or a context) names one, and writes
everything under <out>/release-<version>/: scan/, audit/ (with the SBOM), load/, chaos/,
coverage/, release.json (the steps, bootstrap time and observability), gate.json, junit.xml and
manifest.json (every file's SHA-256 and size, the git commit and dirty state, the environment,
each step's status), plus manifest.sig with --sign-key. Progress goes to stderr step by step; a
failing step does not stop the others. Scans, audits, load and chaos run as govctl child
processes (their logs are in the release directory); against the embedded default, load and
chaos start their own embedded server (each load profile sets its own rate limit, and the
restart probe kills a server it owns); against --url, chaos is skipped (it cannot restart it).
(The release version is --release-version: --version prints govctl's own.)

Exit codes: 0 the gates passed (warnings allowed unless --strict), 1 a gate failed (or --verify
found a problem), 2 bad input (gate file, key, coverage file, an existing release directory),
checked before any step runs, 130 interrupted (the partial directory has its manifest, and
release.json says "interrupted").

Examples:
  govctl release-check --quick
  govctl release-check --url http://127.0.0.1:8080 --release-version 1.4.0 --sign-key ~/.govctl/govctl-release.key
  govctl release-check --quick --gates gates/govctl-ci.json --coverage coverage/coverage-summary.json
  govctl release-check --verify reports/release-1.4.0 --public-key govctl-release.pub`,
    )
    .action(action(registry, async (flags: ReleaseCheckFlags) => (await commands()).releaseCheckCommand(registry.app, flags)));
}
