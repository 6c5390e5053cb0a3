/**
 * Canonical JSON (RFC 8785 JCS for the values a manifest holds): object members sorted by the
 * UTF-16 code units of their names, no whitespace, strings and numbers serialised as ECMAScript's
 * JSON.stringify does. Two manifests with the same values give the same bytes however they were
 * formatted, so a signature over these bytes survives reformatting but not a changed value.
 */

/** A value canonicalJson refuses: it has no single JSON form (NaN, a function, a cycle, ...). */
export class CanonicalJsonError extends TypeError {
  constructor(path: string, what: string) {
    super(`${path}: ${what} has no canonical JSON form`);
    this.name = 'CanonicalJsonError';
  }
}

/** Member names compared by UTF-16 code units, as JCS says (not by locale). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function serialise(value: unknown, path: string, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      // ES2019 JSON.stringify escapes exactly what JCS escapes (and lone surrogates as \udXXX).
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, String(value));
      // JSON.stringify uses Number.prototype.toString, the serialisation JCS prescribes; -0 is "0".
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(path, `a ${typeof value}`);
  }
  const object = value as object;
  if (seen.has(object)) throw new CanonicalJsonError(path, 'a cycle');
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item, i) => (item === undefined ? 'null' : serialise(item, `${path}[${i}]`, seen))).join(',')}]`;
    }
    const prototype = Object.getPrototypeOf(object) as unknown;
    if (prototype !== Object.prototype && prototype !== null) throw new CanonicalJsonError(path, `a ${object.constructor?.name ?? 'non-plain'} object`);
    const members = Object.keys(object)
      // Absent optional fields ({reason: undefined}) are left out, as JSON.stringify does.
      .filter((key) => (object as Record<string, unknown>)[key] !== undefined)
      .sort(byCodeUnits)
      .map((key) => `${JSON.stringify(key)}:${serialise((object as Record<string, unknown>)[key], `${path}.${key}`, seen)}`);
    return `{${members.join(',')}}`;
  } finally {
    seen.delete(object);
  }
}

/** The canonical JSON text of a JSON value. Throws CanonicalJsonError for anything else. */
export function canonicalJson(value: unknown): string {
  return serialise(value, '$', new Set());
}

/** The canonical JSON of a value as UTF-8 bytes: what a release signature is made over. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/**
 * The first member name that occurs twice in one object of a JSON text (which JSON.parse
 * accepted), as a JSON path; undefined when there is none. JSON.parse keeps the last of two
 * equal names, other readers the first: a signed manifest with a duplicate could show one
 * reader a value the signature does not cover, so such a text is refused.
 */
export function findDuplicateKey(text: string): string | undefined {
  type Frame = { keys: Set<string> | undefined; path: string; index: number; key?: string };
  const stack: Frame[] = [];
  const pathOf = (frame: Frame | undefined): string => {
    if (!frame) return '$';
    return frame.keys ? `${frame.path}.${frame.key ?? ''}` : `${frame.path}[${frame.index}]`;
  };
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(name)) return `${top.path}.${name}`;
        top.keys.add(name);
        top.key = name;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : undefined, path: pathOf(stack[stack.length - 1]), index: 0 });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) expectKey = true;
      else if (top) top.index++;
    }
  }
  return undefined;
}
