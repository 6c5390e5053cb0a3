import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode } from '../../core/errors.js';
import { withFileSystemErrors } from '../../core/fs-errors.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, renderTable, styled, type Cell } from '../render/output.js';
import { visible } from '../render/visible.js';

export interface ReleaseKeygenFlags {
  out: string;
  type: 'ed25519' | 'rsa-pss';
  force?: boolean;
}

export interface ReleaseVerifyFlags {
  publicKey?: string;
}

export const PRIVATE_KEY_FILE = 'govctl-release.key';
export const PUBLIC_KEY_FILE = 'govctl-release.pub';

export async function releaseKeygenCommand(app: CliApp, flags: ReleaseKeygenFlags): Promise<number> {
  const outDir = resolve(app.io.cwd, flags.out);
  // A directory made for keys is the owner's only; an existing one is left as it is.
  await withFileSystemErrors('create', outDir, () => mkdir(outDir, { recursive: true, mode: 0o700 }));
  const privatePath = join(outDir, PRIVATE_KEY_FILE);
  const publicPath = join(outDir, PUBLIC_KEY_FILE);
  const { generateKeyPair } = await import('../../release/signing.js');
  const { fingerprint } = await generateKeyPair({ privatePath, publicPath, type: flags.type, force: flags.force === true });
  const { isIgnoredByGit } = await import('../../release/git-state.js');
  if ((await isIgnoredByGit(privatePath, outDir)) === false) {
    app.warn(`${privatePath} is inside a git work tree and not ignored: add it to .gitignore so the private key is never committed`);
  }
  const algorithm = flags.type === 'rsa-pss' ? 'rsa-pss-sha256' : 'ed25519';
  if (app.json) {
    app.printJson({ private_key: privatePath, public_key: publicPath, type: flags.type, algorithm, public_key_sha256: fingerprint });
  } else {
    app.print(
      renderKeyValues(
        [
          ['private key', `${privatePath} (mode 0600: keep it secret)`],
          ['public key', `${publicPath} (give it to verifiers)`],
          ['algorithm', algorithm],
          ['fingerprint', `sha256:${fingerprint}`],
        ],
        app.style,
      ),
    );
  }
  return ExitCode.ok;
}

/** `govctl release verify DIR`; `govctl release-check --verify DIR` runs the same. */
export async function releaseVerifyCommand(app: CliApp, dirArg: string, flags: ReleaseVerifyFlags): Promise<number> {
  const dir = resolve(app.io.cwd, dirArg);
  const [{ verifyRelease }, { loadPublicKey }] = await Promise.all([import('../../release/verify.js'), import('../../release/signing.js')]);
  let publicKey: { pem: string; source: string } | undefined;
  if (flags.publicKey !== undefined) {
    const path = resolve(app.io.cwd, flags.publicKey);
    const loaded = await loadPublicKey(path);
    publicKey = { pem: loaded.pem, source: `public key ${path}` };
  }
  const result = await verifyRelease({ dir, ...(publicKey ? { publicKey: publicKey.pem, publicKeySource: publicKey.source } : {}), signal: app.signal });
  for (const warning of result.warnings) app.warn(warning);
  if (result.consistent && !result.authenticated && result.signature.problem && publicKey === undefined) app.warn(result.signature.problem);
  if (app.json) app.printJson(result);
  else app.print(renderVerify(app, result));
  return result.ok ? ExitCode.ok : ExitCode.failed;
}

type VerifyResult = import('../../release/verify.js').VerifyResult;

function renderVerify(app: CliApp, result: VerifyResult): string {
  const s = app.style;
  const label = { ok: s.green('OK'), changed: s.red('CHANGED'), missing: s.red('MISSING'), extra: s.red('EXTRA') } as const;
  const lines: string[] = [];
  if (result.artifacts.length > 0) {
    const rows: Cell[][] = result.artifacts.map((a) => [
      styled(label[a.status]),
      a.path,
      a.actual?.size ?? a.expected?.size,
      (a.actual?.sha256 ?? a.expected?.sha256)?.slice(0, 16),
      a.status === 'ok' ? '' : a.reason,
    ]);
    lines.push(renderTable(['STATUS', 'ARTIFACT', 'SIZE', 'SHA-256', 'DETAIL'], rows, s, { width: app.tableWidth }).trimEnd(), '');
  }
  const m = result.manifest;
  const sig = result.signature;
  const signatureText: Record<typeof sig.status, string> = {
    verified: s.green(`verified with the given key (sha256:${sig.given_key_sha256 ?? ''})`),
    'not-checked': s.yellow(`present (${sig.algorithm ?? '?'}, names key sha256:${sig.key_sha256 ?? '?'}) but NOT checked: pass --public-key`),
    unsigned: s.yellow('none: the release is not signed'),
    missing: s.red(`MISSING: ${sig.problem ?? ''}`),
    invalid: s.red(`INVALID: ${sig.problem ?? ''}`),
    'wrong-key': s.red(`WRONG KEY: ${sig.problem ?? ''}`),
    damaged: s.red(`DAMAGED: ${sig.problem ?? ''}`),
  };
  lines.push(
    renderKeyValues(
      [
        ['release', result.dir],
        ['manifest.json', m.status === 'ok' ? `version ${m.version ?? '?'}, written by govctl ${m.govctl_version ?? '?'} at ${m.created_at ?? '?'}` : styled(s.red(`INVALID: ${m.problem ?? ''}`))],
        ['git', m.status !== 'ok' ? undefined : m.git ? `${m.git.commit}${m.git.dirty ? ' (dirty: uncommitted changes)' : ''}` : 'not recorded'],
        ['manifest.sig', styled(signatureText[sig.status])],
      ],
      s,
    ).trimEnd(),
    '',
  );
  const counted = result.artifacts.filter((a) => a.status === 'ok').length;
  if (!result.ok) {
    lines.push(s.red(`verification FAILED: ${result.problems.length} problem(s)`));
    for (const problem of result.problems) lines.push(`  ${visible(problem.file)}: ${visible(problem.problem)}`);
  } else if (result.authenticated) {
    lines.push(s.green(`verified: ${counted} artifact(s) match manifest.json, signed by the given key`));
  } else {
    const why = sig.status === 'unsigned' ? 'the release is unsigned' : 'the signature was not checked (pass --public-key FILE)';
    lines.push(s.yellow(`consistent but NOT authenticated: ${counted} artifact(s) match manifest.json; ${why}`));
  }
  return lines.join('\n');
}
