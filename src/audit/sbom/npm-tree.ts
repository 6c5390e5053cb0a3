/**
 * Path arithmetic over the keys of package-lock.json's `packages` map. A key is the install
 * location relative to the project: "node_modules/a", "node_modules/a/node_modules/@s/b" (b
 * installed for a), "packages/a" (a workspace or `file:` folder), "" (the project).
 */

const NM = 'node_modules/';
const SLASH_NM = '/node_modules/';

/** True for a key inside some node_modules folder (an installed copy, not a source folder). */
export function isInstalledKey(key: string): boolean {
  return key.startsWith(NM) || key.includes(SLASH_NM);
}

/** The package name an installed key was installed under ("@s/b"); undefined for a folder key. */
export function nameFromKey(key: string): string | undefined {
  const i = key.lastIndexOf(SLASH_NM);
  if (i >= 0) return key.slice(i + SLASH_NM.length);
  return key.startsWith(NM) ? key.slice(NM.length) : undefined;
}

/**
 * The next folder Node's module resolution looks in after `key`: the package that holds key's
 * node_modules folder, or the parent directory of a source folder; undefined past the project
 * ("" is the last) or past a folder outside it ("../lib" does not see the project's node_modules).
 */
export function parentOf(key: string): string | undefined {
  if (key === '') return undefined;
  const i = key.lastIndexOf(SLASH_NM);
  if (i >= 0) return key.slice(0, i);
  if (key.startsWith(NM)) return '';
  const slash = key.lastIndexOf('/');
  const parent = slash < 0 ? '' : key.slice(0, slash);
  const leaving = slash < 0 ? key : key.slice(slash + 1);
  return leaving === '..' || parent === '..' || parent.endsWith('/..') ? undefined : parent;
}

/**
 * Resolves `name` as `require(name)` would from the package at `from`: `<from>/node_modules/<name>`,
 * then the same in each enclosing folder, as npm lays packages out. `has` says whether a key
 * exists in the lockfile.
 */
export function resolveKey(from: string, name: string, has: (key: string) => boolean): string | undefined {
  for (let at: string | undefined = from; at !== undefined; at = parentOf(at)) {
    const candidate = at === '' ? NM + name : `${at}/${NM}${name}`;
    if (has(candidate)) return candidate;
  }
  return undefined;
}

/**
 * A test for the root's `workspaces` globs ("packages/*", "apps/**", "tools/cli", "!x").
 * `workspaces` may be an array or yarn's {packages: [...]}.
 */
export function workspaceMatcher(workspaces: unknown): (key: string) => boolean {
  const list = Array.isArray(workspaces)
    ? workspaces
    : typeof workspaces === 'object' && workspaces !== null && Array.isArray((workspaces as { packages?: unknown }).packages)
      ? (workspaces as { packages: unknown[] }).packages
      : [];
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const pattern of list) {
    if (typeof pattern !== 'string' || pattern.trim() === '') continue;
    const negated = pattern.startsWith('!');
    (negated ? exclude : include).push(globToRegExp(negated ? pattern.slice(1) : pattern));
  }
  if (include.length === 0) return () => false;
  return (key) => include.some((re) => re.test(key)) && !exclude.some((re) => re.test(key));
}

function globToRegExp(glob: string): RegExp {
  const clean = glob.trim().replace(/^\.\//, '').replace(/\/+$/, '');
  let source = '';
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (c === '*' && clean[i + 1] === '*') {
      // "a/**/b" also matches "a/b"; a trailing "**" matches any depth.
      const slash = clean[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
