import { InvalidInputError } from '../../../core/errors.js';
import type { Finding, FileLocation } from '../../../core/findings.js';
import type { LockPackage, PackageHash, ParsedLockfile } from '../model.js';
import {
  addHashes,
  dependencyFinding,
  directUrlFinding,
  insecureIndexFinding,
  isInsecureRemoteUrl,
  isRecord,
  mergeByPurl,
  parseHash,
  readManifestText,
  type PythonParseContext,
} from './common.js';
import { pypiName, pypiPurl } from './pep503.js';

const SECTIONS = [
  ['default', 'required'],
  ['develop', 'dev'],
] as const;

/** Pipfile.lock (pipfile-spec 6): "default" (required) and "develop" (dev) sections; no graph. */
export async function parsePipfileLock(dir: string, manifest: string, ctx: PythonParseContext): Promise<ParsedLockfile> {
  const text = await readManifestText(dir, manifest);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`${manifest}${jsonErrorLine(text, (err as Error).message)}: not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(doc) || (!isRecord(doc.default) && !isRecord(doc.develop))) {
    throw new InvalidInputError(`${manifest}: not a Pipfile.lock: no "default" or "develop" section`);
  }
  const lines = text.split(/\r?\n/);
  const findings: Finding[] = [];
  const notes: string[] = [];
  findings.push(...sourceFindings(ctx, manifest, doc._meta, lines));

  const packages: LockPackage[] = [];
  for (const [section, scope] of SECTIONS) {
    const entries = doc[section];
    if (entries === undefined) continue;
    if (!isRecord(entries)) throw new InvalidInputError(`${manifest}: "${section}" must be an object of packages`);
    for (const [rawName, entry] of Object.entries(entries)) {
      const path = `${section}.${rawName}`;
      if (!isRecord(entry)) throw new InvalidInputError(`${manifest}: ${path}: expected an object`);
      const name = pypiName(rawName);
      const location = (): FileLocation => ({ file: manifest, line: lineOfKey(lines, section, rawName), column: 1 });
      const remote = ['git', 'hg', 'svn', 'bzr', 'file'].find((k) => typeof entry[k] === 'string');
      if (remote) {
        const source = `${rawName} from ${remote} ${String(entry[remote])}${typeof entry.ref === 'string' ? `@${entry.ref}` : ''}`;
        findings.push(directUrlFinding(ctx, manifest, name, source, location()));
        notes.push(`${manifest}: ${path} not listed (no index release)`);
        continue;
      }
      if (typeof entry.path === 'string') {
        notes.push(`${manifest}: ${path} from the local path ${entry.path} not listed (project code)`);
        continue;
      }
      const version = typeof entry.version === 'string' ? /^===?\s*([^*\s,]+)$/.exec(entry.version.trim())?.[1] : undefined;
      if (version === undefined) {
        findings.push(unpinnedEntry(ctx, manifest, name, `"${rawName}": ${JSON.stringify(entry.version ?? '*')}`, location()));
        continue;
      }
      const hashes: PackageHash[] = [];
      if (Array.isArray(entry.hashes)) addHashes(hashes, entry.hashes.map((h) => (typeof h === 'string' ? parseHash(h) : undefined)));
      if (typeof entry.markers === 'string') notes.push(`${manifest}: ${path}==${version} only where ${entry.markers}`);
      packages.push({ ecosystem: 'PyPI', name, version, purl: pypiPurl(name, version), scope, hashes, licenses: [], dependsOn: [] });
    }
  }
  const merged = mergeByPurl(packages);
  return { manifest, ecosystem: 'PyPI', rootDependsOn: merged.map((p) => p.purl), packages: merged, findings, notes };
}

/** ":line:column" from V8's "at position N" (newer Node versions say the line themselves). */
function jsonErrorLine(text: string, message: string): string {
  const pos = /at position (\d+)/.exec(message)?.[1];
  if (pos === undefined || /\bline \d+/.test(message)) return '';
  const before = text.slice(0, Number(pos)).split(/\n/);
  return `:${before.length}:${before[before.length - 1]!.length + 1}`;
}

/** The 1-based line of `"key":` inside the section, for a finding's location (1 when not found). */
function lineOfKey(lines: string[], section: string, key: string): number {
  const start = lines.findIndex((l) => l.includes(`"${section}"`));
  const needle = `${JSON.stringify(key)}:`;
  for (let i = Math.max(start, 0); i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  return 1;
}

function sourceFindings(ctx: PythonParseContext, manifest: string, meta: unknown, lines: string[]): Finding[] {
  if (!isRecord(meta) || !Array.isArray(meta.sources)) return [];
  return meta.sources.flatMap((s) => {
    if (!isRecord(s) || typeof s.url !== 'string') return [];
    if (!isInsecureRemoteUrl(s.url) && s.verify_ssl !== false) return [];
    const line = Math.max(1, lines.findIndex((l) => l.includes(s.url as string)) + 1);
    const evidence = `source ${String(s.name ?? '')} url ${s.url} verify_ssl ${String(s.verify_ssl ?? true)}`;
    return [insecureIndexFinding(ctx, manifest, s.url, { file: manifest, line, column: 1 }, evidence)];
  });
}

/** A lock entry with no exact version ("version": "*"): should not happen in a locked file, but say so. */
function unpinnedEntry(ctx: PythonParseContext, manifest: string, name: string, evidence: string, location: FileLocation): Finding {
  return dependencyFinding(ctx, {
    rule: 'unpinned-requirement',
    severity: 'medium',
    title: `${name} is not pinned to an exact version`,
    location,
    evidence,
    remediation: 'Re-create the lock with `pipenv lock` so that every package is pinned with ==version and hashes.',
    parts: [manifest, name],
  });
}
