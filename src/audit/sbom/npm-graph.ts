import type { LockEntry } from './npm-lock-file.js';
import { isInstalledKey, nameFromKey, resolveKey } from './npm-tree.js';

/** One installed copy (or workspace folder) of a package: a key of the `packages` map. */
export interface LockNode {
  key: string;
  entry: LockEntry;
  /** The package's own name (an alias `node_modules/x` of `npm:y@1` is y). */
  name: string;
  /** "" when the lockfile names none (a workspace without a version). */
  version: string;
  purl: string;
}

/**
 * The lockfile as a tree of nodes and links, and Node's module resolution over it. Edges that
 * resolve to nothing are remembered for a note: a required one means the lockfile is incomplete;
 * one of a folder outside the project is expected (npm does not lock what `file:../lib` needs).
 */
export class LockGraph {
  readonly nodes = new Map<string, LockNode>();
  /** Link key ("node_modules/a") -> the folder key it points at ("packages/a"). */
  readonly links = new Map<string, string>();
  readonly unresolved: string[] = [];
  readonly outsideUnlocked = new Set<string>();

  constructor(entries: Record<string, LockEntry>, purlOf: (name: string, version: string, key: string) => string) {
    const linkedName = new Map<string, string>();
    for (const key in entries) {
      const entry = entries[key]!;
      if (!entry.link || key === '') continue;
      const target = normaliseLinkTarget(entry.resolved!);
      this.links.set(key, target);
      const name = nameFromKey(key);
      if (name !== undefined && !linkedName.has(target)) linkedName.set(target, name);
    }
    const purls = new Map<string, string>();
    for (const key in entries) {
      const entry = entries[key]!;
      if (key === '' || entry.link) continue;
      // A folder's lockfile entry omits `name` when it equals the folder name.
      const name = entry.name ?? nameFromKey(key) ?? linkedName.get(key) ?? key.slice(key.lastIndexOf('/') + 1);
      const version = entry.version ?? '';
      const id = `${name}@${version}`;
      let purl = purls.get(id);
      if (purl === undefined) purls.set(id, (purl = purlOf(name, version, key)));
      this.nodes.set(key, { key, entry, name, version, purl });
    }
  }

  /** purls of what the package at `from` depends on (devDependencies only for source folders). */
  edgesOf(from: string, entry: LockEntry, label: string = from): string[] {
    const out: string[] = [];
    const has = (key: string): boolean => this.nodes.has(key) || this.links.has(key);
    const outside = isOutside(from);
    const visit = (deps: Record<string, string> | undefined, required: boolean): void => {
      for (const dep in deps) {
        const key = resolveKey(from, dep, has);
        const target = key === undefined ? undefined : this.nodes.get(this.links.get(key) ?? key);
        if (target) out.push(target.purl);
        // Missing optional and peer deps are normal (other platforms, unmet optional peers).
        else if (!required || entry.optionalDependencies?.[dep] !== undefined || entry.peerDependencies?.[dep] !== undefined) continue;
        else if (outside) this.outsideUnlocked.add(from);
        else this.unresolved.push(`${label} -> ${dep}`);
      }
    };
    visit(entry.dependencies, true);
    visit(entry.optionalDependencies, false);
    visit(entry.peerDependencies, false);
    // npm installs dev deps for the project and its workspace/linked folders, never for packages.
    if (!isInstalledKey(from)) visit(entry.devDependencies, true);
    return out;
  }

  /** Links whose target folder the lockfile does not list. */
  brokenLinks(): Array<[link: string, target: string]> {
    return [...this.links].filter(([, target]) => !this.nodes.has(target));
  }
}

/** A folder outside the project ("../lib"): a `file:` dependency. */
export function isOutside(key: string): boolean {
  return key === '..' || key.startsWith('../');
}

/** A link's `resolved` is the target folder relative to the project ("packages/a", "../lib"). */
function normaliseLinkTarget(resolved: string): string {
  return resolved
    .replace(/^file:/, '')
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
}
