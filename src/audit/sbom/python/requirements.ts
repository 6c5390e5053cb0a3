import { readFile } from 'node:fs/promises';
import { dirname, posix, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../../../core/errors.js';
import type { Finding, FileLocation } from '../../../core/findings.js';
import type { LockPackage, PackageHash, ParsedLockfile } from '../model.js';
import {
  addHashes,
  checkAborted,
  dependencyFinding,
  directUrlFinding,
  insecureIndexFinding,
  isInsecureRemoteUrl,
  mergeByPurl,
  parseHash,
  readManifestText,
  redactUrlCredentials,
  type PythonParseContext,
  type Scope,
} from './common.js';
import { pypiName, pypiPurl } from './pep503.js';
import { logicalLines, parseOptions, parseRequirement, pinnedVersion, splitArgsOptions, type OptionToken } from './requirements-line.js';

/**
 * Dev heuristic: a requirements file whose name or directory says dev/test/lint/docs
 * (requirements-dev.txt, dev-requirements.txt, requirements/test.txt, requirements_lint.txt).
 * A package is dev when any file on the include chain from the manifest to its line is such a file:
 * what requirements-dev.txt pulls in with "-r requirements.txt" is installed for development there
 * (parsed as a manifest of its own, requirements.txt still makes it required; the SBOM keeps the wider scope).
 */
const DEV_FILE = /(^|[-_./])(dev|devel|develop|development|tests?|testing|lint|linting|docs?)([-_.]|$)/i;

export function isDevRequirementsFile(relPath: string): boolean {
  return DEV_FILE.test(relPath.split(/[\\/]/).slice(-2).join('/').replace(/\.txt$/i, ''));
}

interface Entry {
  name: string;
  /** File (relative to dir) and line of the requirement. */
  file: string;
  line: number;
  text: string;
  scope: Scope;
  version?: string;
  hashes: PackageHash[];
  marker?: string;
}

interface Walk {
  dir: string;
  ctx: PythonParseContext;
  requirements: Entry[];
  /** Pins from "-c" files, by normalised name. */
  constraints: Map<string, Entry>;
  findings: Finding[];
  notes: string[];
  done: Set<string>;
}

const toRel = (dir: string, abs: string) => relative(dir, abs).split(sep).join(posix.sep);

/** Parses a requirements file and everything it includes with -r / -c. */
export async function parseRequirementsFile(dir: string, manifest: string, ctx: PythonParseContext): Promise<ParsedLockfile> {
  const walk: Walk = { dir, ctx, requirements: [], constraints: new Map(), findings: [], notes: [], done: new Set() };
  const text = await readManifestText(dir, manifest);
  await walkFile(walk, resolve(dir, manifest), text, { constraint: false, dev: isDevRequirementsFile(manifest), chain: [] });

  const packages: LockPackage[] = [];
  let unpinned = 0;
  for (const entry of walk.requirements) {
    let { version, hashes } = entry;
    const key = pypiName(entry.name);
    const pin = version === undefined ? walk.constraints.get(key) : undefined;
    if (pin?.version !== undefined) {
      version = pin.version;
      hashes = pin.hashes;
      walk.notes.push(`${entry.file}:${entry.line}: ${key} pinned to ${version} by the constraints file ${pin.file}:${pin.line}`);
    }
    if (version === undefined) {
      unpinned++;
      walk.findings.push(unpinnedFinding(ctx, entry, key));
      continue;
    }
    if (entry.marker) walk.notes.push(`${entry.file}:${entry.line}: ${key}==${version} only where ${entry.marker}`);
    packages.push({
      ecosystem: 'PyPI',
      name: key,
      version,
      purl: pypiPurl(key, version),
      scope: entry.scope,
      hashes: [...hashes],
      licenses: [],
      dependsOn: [],
    });
  }
  if (unpinned > 0) walk.notes.push(`${manifest}: ${unpinned} unpinned requirement(s) not listed as components (no version to list)`);
  const merged = mergeByPurl(packages);
  const byId = new Map(walk.findings.map((f) => [f.id, f]));
  return {
    manifest,
    ecosystem: 'PyPI',
    // A requirements file has no graph: everything it pins is a direct dependency.
    rootDependsOn: merged.map((p) => p.purl),
    packages: merged,
    findings: [...byId.values()],
    notes: walk.notes,
  };
}

interface FileState {
  constraint: boolean;
  dev: boolean;
  /** "file:line" of each include on the way here, for the cycle message. */
  chain: { abs: string; at: string }[];
}

async function walkFile(walk: Walk, abs: string, text: string, state: FileState): Promise<void> {
  const file = toRel(walk.dir, abs);
  checkAborted(walk.ctx.signal, file);
  const doneKey = `${abs}\u0000${state.constraint}\u0000${state.dev}`;
  if (walk.done.has(doneKey)) return;
  walk.done.add(doneKey);
  for (const { line, text: lineText } of logicalLines(text)) {
    if (lineText.startsWith('-')) {
      await optionLine(walk, abs, file, line, lineText, state);
      continue;
    }
    const { args, options } = splitArgsOptions(lineText);
    requirementLine(walk, file, line, args, options, state);
  }
}

async function optionLine(walk: Walk, abs: string, file: string, line: number, text: string, state: FileState): Promise<void> {
  const loc: FileLocation = { file, line, column: 1 };
  for (const opt of parseOptions(text)) {
    switch (opt.name) {
      case '-r':
      case '--requirement':
      case '-c':
      case '--constraint': {
        const constraint = state.constraint || opt.name === '-c' || opt.name === '--constraint';
        await include(walk, abs, file, line, opt.value, { ...state, constraint });
        break;
      }
      case '-e':
      case '--editable':
        if (opt.value) requirementLine(walk, file, line, opt.value, [], state);
        break;
      case '-i':
      case '--index-url':
      case '-f':
      case '--find-links':
        if (opt.value && isInsecureRemoteUrl(opt.value)) walk.findings.push(insecureIndexFinding(walk.ctx, file, opt.value, loc, text));
        break;
      case '--extra-index-url':
        if (!opt.value) break;
        if (isInsecureRemoteUrl(opt.value)) walk.findings.push(insecureIndexFinding(walk.ctx, file, opt.value, loc, text));
        walk.findings.push(extraIndexFinding(walk, file, opt.value, loc, text));
        break;
      default:
        break;
    }
  }
}

async function include(walk: Walk, abs: string, file: string, line: number, target: string | undefined, state: FileState): Promise<void> {
  if (!target) throw new InvalidInputError(`${file}:${line}: -r/-c without a file name`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    walk.notes.push(`${file}:${line}: remote include ${redactUrlCredentials(target)} not followed (no network)`);
    return;
  }
  const includedAbs = resolve(dirname(abs), target);
  const chain = [...state.chain, { abs, at: `${file}:${line}` }];
  const cycleStart = chain.findIndex((c) => c.abs === includedAbs);
  if (cycleStart >= 0) {
    const path = chain.slice(cycleStart).map((c) => c.at);
    throw new InvalidInputError(`${file}:${line}: include cycle: ${path.join(' -> ')} -> ${toRel(walk.dir, includedAbs)}`, {
      hint: 'pip would recurse forever: remove one of the -r/-c lines',
    });
  }
  let text: string;
  try {
    text = (await readFile(includedAbs, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      `${file}:${line}: included file ${target} cannot be read (${code === 'ENOENT' ? 'no such file' : (err as Error).message})`,
    );
  }
  const dev = state.dev || isDevRequirementsFile(toRel(walk.dir, includedAbs));
  await walkFile(walk, includedAbs, text, { ...state, dev, chain });
}

function requirementLine(walk: Walk, file: string, line: number, args: string, options: OptionToken[], state: FileState): void {
  const req = parseRequirement(args);
  if (!req) {
    throw new InvalidInputError(`${file}:${line}: not a valid requirement: ${redactUrlCredentials(args).slice(0, 120)}`, {
      hint: 'expected name==version (PEP 508), an option line such as -r file.txt, or a URL',
    });
  }
  if (state.constraint) {
    // Constraints only pin what is required elsewhere; their unpinned or URL lines are not findings.
    const version = req.kind === 'named' ? pinnedVersion(req.specifiers) : undefined;
    if (req.kind === 'named' && version !== undefined) {
      const hashes: PackageHash[] = [];
      addHashes(hashes, hashOptions(options));
      walk.constraints.set(pypiName(req.name), { name: req.name, file, line, text: args, scope: 'required', version, hashes });
    }
    return;
  }
  const scope: Scope = state.dev ? 'dev' : 'required';
  if (req.kind === 'direct') {
    if (req.local) {
      walk.notes.push(`${file}:${line}: local path requirement ${redactUrlCredentials(req.source)} not listed (project code, not a published package)`);
    } else {
      const name = req.name ? pypiName(req.name) : redactUrlCredentials(req.source);
      walk.findings.push(directUrlFinding(walk.ctx, file, name, args, { file, line, column: 1 }));
      walk.notes.push(`${file}:${line}: ${name} from ${redactUrlCredentials(req.source)} not listed (no index release)`);
    }
    return;
  }
  const hashes: PackageHash[] = [];
  addHashes(hashes, hashOptions(options));
  const entry: Entry = { name: req.name, file, line, text: args, scope, hashes };
  const version = pinnedVersion(req.specifiers);
  if (version !== undefined) entry.version = version;
  if (req.marker) entry.marker = req.marker;
  walk.requirements.push(entry);
}

function hashOptions(options: OptionToken[]): (PackageHash | undefined)[] {
  return options.filter((o) => o.name === '--hash' && o.value).map((o) => parseHash(o.value!));
}

function unpinnedFinding(ctx: PythonParseContext, entry: Entry, key: string): Finding {
  return dependencyFinding(ctx, {
    rule: 'unpinned-requirement',
    severity: 'medium',
    title: `${key} is not pinned to an exact version`,
    location: { file: entry.file, line: entry.line, column: 1 },
    evidence: redactUrlCredentials(entry.text),
    remediation:
      `Pin it with == to the version you tested (${key}==<version>), ideally with --hash: generate the file with ` +
      '`pip-compile --generate-hashes` (pip-tools) or `uv pip compile --generate-hashes`. Unpinned, every install may ' +
      'pick up a different release, and the SBOM cannot list it.',
    parts: [entry.file, key],
  });
}

function extraIndexFinding(walk: Walk, file: string, url: string, location: FileLocation, text: string): Finding {
  return dependencyFinding(walk.ctx, {
    rule: 'extra-index-url',
    severity: 'medium',
    title: 'An extra package index is searched besides the main one (dependency confusion)',
    location,
    evidence: redactUrlCredentials(text),
    remediation:
      'pip takes the highest version found on any index, so anyone who publishes a private package name on PyPI can take ' +
      'its place. Use a single --index-url (a proxy that serves your private packages and mirrors PyPI), or uv with its ' +
      'default first-index strategy; and pin every requirement with --hash (pip --require-hashes).',
    parts: [file, redactUrlCredentials(url)],
    cwe: 'CWE-427',
    references: ['https://peps.python.org/pep-0708/'],
  });
}

