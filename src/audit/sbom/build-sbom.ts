import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InterruptedError, InvalidInputError } from '../../core/errors.js';
import { fileSystemError, isErrnoError } from '../../core/fs-errors.js';
import type { PackageRef, SbomResult, StepContext } from '../types.js';
import { mergeLockfiles } from './cyclonedx-merge.js';
import type { ParsedLockfile } from './model.js';

export { readSbomFile } from './cyclonedx-read.js';

/**
 * `govctl audit --sbom`: finds the lockfiles of a directory, parses them, and builds a validated
 * CycloneDX JSON SBOM of every package they lock. npm-shrinkwrap.json wins over package-lock.json
 * when both exist (as npm does); every Python manifest found is read.
 */

const NPM_LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json'] as const;
const LOOKED_FOR = 'package-lock.json, npm-shrinkwrap.json, requirements*.txt, poetry.lock, Pipfile.lock, uv.lock';

export async function buildSbom(options: { dir: string; spec: '1.5' | '1.6'; reproducible: boolean } & StepContext): Promise<SbomResult> {
  const { dir, spec, reproducible, signal, onEvent, fingerprintKey } = options;
  await assertDirectory(dir);
  const python = await import('./python/index.js');
  const [npmLockfile, pythonManifests] = await Promise.all([findNpmLockfile(dir), python.findPythonManifests(dir)]);
  const notes: string[] = [];
  if (npmLockfile === 'npm-shrinkwrap.json' && (await isFile(join(dir, 'package-lock.json')))) {
    notes.push('npm-shrinkwrap.json and package-lock.json both present: npm-shrinkwrap.json used (npm ignores package-lock.json then)');
  }
  if (npmLockfile === undefined && pythonManifests.length === 0) {
    throw new InvalidInputError(`no lockfile in ${dir}: looked for ${LOOKED_FOR}`, { hint: 'run npm install --package-lock-only, or pass --dir' });
  }
  checkAborted(signal);

  const parses: Promise<ParsedLockfile>[] = [];
  if (npmLockfile !== undefined) {
    parses.push(import('./npm-lock.js').then(({ parseNpmLockfile }) => parseNpmLockfile(dir, npmLockfile, signal ? { signal } : {})));
  }
  for (const manifest of pythonManifests) {
    parses.push(python.parsePythonManifest(dir, manifest, { fingerprintKey, ...(signal ? { signal } : {}) }));
  }
  // Start the library import and the validator load while the lockfiles are read.
  const cyclonedx = import('./cyclonedx.js');
  const lockfiles = await Promise.all(parses);
  for (const lockfile of lockfiles) {
    onEvent?.({ type: 'progress', step: 'sbom', message: `${lockfile.manifest}: ${lockfile.packages.length} package(s)` });
    for (const note of lockfile.notes) notes.push(note.includes(lockfile.manifest) ? note : `${lockfile.manifest}: ${note}`);
  }
  checkAborted(signal);

  const project = projectOf(lockfiles, dir);
  const { buildBomJson } = await cyclonedx;
  const bomJson = await buildBomJson(lockfiles, { spec, reproducible, projectName: project.name, ...(project.version ? { projectVersion: project.version } : {}) });

  const graph = mergeLockfiles(lockfiles);
  const components: PackageRef[] = graph.packages
    .map((p) => ({ purl: p.purl, ecosystem: p.ecosystem, name: p.name, version: p.version, manifests: [...p.manifests].sort(), scope: p.scope }))
    .sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  const manifests = lockfiles.map((l) => l.manifest).sort();
  const byEcosystem: Record<string, number> = {};
  for (const c of components) byEcosystem[c.ecosystem] = (byEcosystem[c.ecosystem] ?? 0) + 1;
  return {
    bomJson,
    spec,
    manifests,
    components,
    findings: lockfiles.flatMap((l) => l.findings),
    summary: { components: components.length, by_ecosystem: byEcosystem, dependencies: graph.edges, manifests, notes },
  };
}

/** The project the SBOM describes: the npm root package, else a lockfile's project, else the directory. */
function projectOf(lockfiles: readonly ParsedLockfile[], dir: string): { name: string; version?: string } {
  const named = lockfiles.find((l) => l.ecosystem === 'npm' && l.root?.name) ?? lockfiles.find((l) => l.root?.name);
  if (named?.root) return named.root;
  return { name: basename(resolve(dir)) || 'project' };
}

async function findNpmLockfile(dir: string): Promise<string | undefined> {
  for (const name of NPM_LOCKFILES) if (await isFile(join(dir, name))) return name;
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function assertDirectory(dir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (err) {
    if (isErrnoError(err) && err.code === 'ENOENT') throw new InvalidInputError(`no such directory: ${dir}`, { hint: 'pass --dir with the project directory' });
    throw fileSystemError(err, 'read', dir);
  }
  if (!isDir) throw new InvalidInputError(`${dir} is not a directory`, { hint: 'pass --dir with the project directory' });
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('interrupted while building the SBOM');
}
