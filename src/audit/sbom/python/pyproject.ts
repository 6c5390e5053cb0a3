import { access } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isRecord, parseTomlText, readManifestText } from './common.js';
import { leadingRequirementName, pypiName } from './pep503.js';

/** What pyproject.toml declares directly, by PEP 503 name: the roots of the lock's graph. */
export interface ProjectDeclaration {
  file: string;
  name?: string;
  version?: string;
  required: string[];
  optional: string[];
  dev: string[];
}

/** Reads the pyproject.toml beside a lock file; undefined when there is none. */
export async function readPyprojectBeside(dir: string, lockFile: string): Promise<ProjectDeclaration | undefined> {
  const file = posix.join(posix.dirname(lockFile), 'pyproject.toml');
  try {
    await access(join(dir, file));
  } catch {
    return undefined;
  }
  const doc = parseTomlText(await readManifestText(dir, file), file);
  const decl: ProjectDeclaration = { file, required: [], optional: [], dev: [] };
  const project = isRecord(doc.project) ? doc.project : {};
  const tool = isRecord(doc.tool) ? doc.tool : {};
  const poetry = isRecord(tool.poetry) ? tool.poetry : {};

  const name = str(project.name) ?? str(poetry.name);
  const version = str(project.version) ?? str(poetry.version);
  if (name) decl.name = name;
  if (version) decl.version = version;

  decl.required.push(...pep508Names(project.dependencies));
  if (isRecord(project['optional-dependencies'])) {
    for (const list of Object.values(project['optional-dependencies'])) decl.optional.push(...pep508Names(list));
  }
  if (isRecord(doc['dependency-groups'])) {
    for (const list of Object.values(doc['dependency-groups'])) decl.dev.push(...pep508Names(list));
  }
  if (isRecord(tool.uv)) decl.dev.push(...pep508Names(tool.uv['dev-dependencies']));

  poetryTable(poetry.dependencies, decl.required, decl.optional);
  poetryTable(poetry['dev-dependencies'], decl.dev, decl.dev);
  if (isRecord(poetry.group)) {
    for (const [group, body] of Object.entries(poetry.group)) {
      if (!isRecord(body)) continue;
      if (group === 'main') poetryTable(body.dependencies, decl.required, decl.optional);
      else poetryTable(body.dependencies, decl.dev, decl.dev);
    }
  }
  return decl;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function pep508Names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((spec) => {
    const name = typeof spec === 'string' ? leadingRequirementName(spec) : undefined;
    return name ? [pypiName(name)] : [];
  });
}

/** [tool.poetry.dependencies]: name = "^1.2" | {version, optional} | [{...}, {...}]; "python" is not a package. */
function poetryTable(table: unknown, required: string[], optional: string[]): void {
  if (!isRecord(table)) return;
  for (const [name, spec] of Object.entries(table)) {
    if (name.toLowerCase() === 'python') continue;
    const isOptional = isRecord(spec) && spec.optional === true;
    (isOptional ? optional : required).push(pypiName(name));
  }
}
