/**
 * Path filters of coverage objectives: a plain path is a directory or file prefix ("src/core"
 * matches src/core/a.ts and src/core.ts is NOT matched); a pattern with *, ? or [ is a glob
 * ("**" crosses directories, "*" and "?" do not). Paths are relative and use "/".
 */

const GLOB_CHARS = /[*?[]/;

export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        source += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else source += '[^/]*';
    } else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) source += '\\[';
      else {
        source += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A predicate over relative "/"-separated paths. */
export function pathMatcher(pattern: string): (path: string) => boolean {
  const normalised = pattern.replace(/\\/g, '/').replace(/^\.\//, '');
  if (isGlob(normalised)) {
    const re = globToRegExp(normalised);
    return (path) => re.test(path);
  }
  const prefix = normalised.replace(/\/+$/, '');
  return (path) => path === prefix || path.startsWith(`${prefix}/`);
}
