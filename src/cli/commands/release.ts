import { Option, type Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { ReleaseKeygenFlags, ReleaseVerifyFlags } from './release-run.js';

export function registerRelease(program: Command, registry: Registry): void {
  const commands = () => import('./release-run.js');
  const release = program
    .command('release')
    .description('sign and verify release evidence: a signing key pair, and the check of a release directory against its manifest')
    .addHelpText('after', '\ngovctl release-check writes reports/release-<version>/: the artifacts, manifest.json (their\nSHA-256 and size) and, with --sign-key, manifest.sig.');

  release
    .command('keygen')
    .description('write a signing key pair: govctl-release.key (private, PKCS#8 PEM, mode 0600) and govctl-release.pub (SPKI PEM)')
    .option('--out <dir>', 'where to write the two files (created at mode 0700 if missing)', '.')
    .addOption(new Option('--type <type>', 'key type: Ed25519, or RSA (3072 bits) signing with RSA-PSS/SHA-256').choices(['ed25519', 'rsa-pss']).default('ed25519'))
    .option('--force', 'replace existing key files')
    .addHelpText(
      'after',
      `
Keep the private key out of version control and give verifiers the .pub file (its sha256
fingerprint is printed, and recorded in every manifest.sig it makes).
Exit codes: 0 written, 2 a key file exists (without --force) or the directory is not writable.

Examples:
  govctl release keygen --out ~/.govctl
  govctl release keygen --out keys --type rsa-pss
  govctl release-check --sign-key ~/.govctl/govctl-release.key`,
    )
    .action(action(registry, async (flags: ReleaseKeygenFlags) => (await commands()).releaseKeygenCommand(registry.app, flags)));

  release
    .command('verify <dir>')
    .description("check a release directory: every artifact's SHA-256 and size against manifest.json, files missing or added, and manifest.sig")
    .option('--public-key <file>', "the signer's public key (PEM); without it the signature is not checked")
    .addHelpText(
      'after',
      `
The signature is made over the canonical JSON of manifest.json (sorted keys, no whitespace):
reformatting the file does not break it, changing any value does.
Without --public-key only consistency is checked: the files match manifest.json, but anyone who
can change them can rewrite manifest.json too, so the release is reported as not authenticated.

Exit codes: 0 every file matches (and, with --public-key, the signature verifies), 1 a file
changed, missing or added, manifest.json or manifest.sig altered, or signed by another key,
2 an unreadable or unsupported key, 5 no such directory or no manifest.json in it.

Examples:
  govctl release verify reports/release-1.4.0 --public-key govctl-release.pub
  govctl release verify reports/release-1.4.0 -o json | jq '.problems'`,
    )
    .action(action(registry, async (dir: string, flags: ReleaseVerifyFlags) => (await commands()).releaseVerifyCommand(registry.app, dir, flags)));
}
