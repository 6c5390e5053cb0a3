/**
 * Body templates of scenario files. Inside any string of a body, `${name}` is replaced by a value
 * drawn with the seeded generator: a scenario variable (one of its values) or a built-in
 * generator (`${uuid}`, `${int:MIN:MAX}`, `${bool}`). A string that is exactly `${name}` takes
 * the value with its own type (a boolean stays a boolean); elsewhere the value is interpolated as
 * text. `$${` writes a literal `${`. Templates are compiled once, when the file is loaded, so an
 * unknown name is an input error that names its JSON path, not a surprise mid-run.
 */

export type Rng = () => number;

export interface CompiledTemplate {
  /** True when the value has no template at all (every expansion is the same). */
  readonly constant: boolean;
  expand(rng: Rng): unknown;
}

/** A template problem: the JSON path (from the template's root) and what is wrong. */
export interface TemplateProblem {
  path: string;
  message: string;
}

export const BUILTIN_GENERATORS = ['uuid', 'int', 'bool'] as const;

type Generator = (rng: Rng) => unknown;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function uuid(rng: Rng): string {
  let hex = '';
  for (let i = 0; i < 4; i++) hex += Math.floor(rng() * 4294967296).toString(16).padStart(8, '0');
  // RFC 4122 version 4 and variant bits.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function compileGenerator(expr: string, variables: Readonly<Record<string, readonly unknown[]>>): Generator | string {
  const [name = '', ...args] = expr.split(':');
  if (Object.hasOwn(variables, name)) {
    if (args.length > 0) return `variable "${name}" takes no arguments`;
    const values = variables[name]!;
    return (rng) => values[Math.floor(rng() * values.length)];
  }
  switch (name) {
    case 'uuid':
      return args.length === 0 ? uuid : '"uuid" takes no arguments';
    case 'bool':
      return args.length === 0 ? (rng) => rng() < 0.5 : '"bool" takes no arguments';
    case 'int': {
      const [min, max] = args.map((a) => (/^-?\d+$/.test(a) ? Number(a) : NaN));
      if (args.length !== 2 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min! > max!) {
        return '"int" expects ${int:MIN:MAX} with integers MIN <= MAX';
      }
      const lo = min!;
      const span = max! - lo + 1;
      return (rng) => lo + Math.floor(rng() * span);
    }
    default: {
      const known = [...Object.keys(variables), ...BUILTIN_GENERATORS.map((g) => (g === 'int' ? 'int:MIN:MAX' : g))];
      return `unknown variable "${name}" (known: ${known.join(', ')})`;
    }
  }
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function compileString(
  text: string,
  variables: Readonly<Record<string, readonly unknown[]>>,
  path: string,
  problems: TemplateProblem[],
): CompiledTemplate {
  const parts: Array<string | Generator> = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
    } else if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2);
      if (end < 0) {
        problems.push({ path, message: 'unterminated "${" (write "$${" for a literal "${")' });
        return { constant: true, expand: () => text };
      }
      const generator = compileGenerator(text.slice(i + 2, end).trim(), variables);
      if (typeof generator === 'string') {
        problems.push({ path, message: generator });
        return { constant: true, expand: () => text };
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(generator);
      i = end + 1;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal !== '') parts.push(literal);
  if (parts.every((p) => typeof p === 'string')) {
    const value = parts.join('');
    return { constant: true, expand: () => value };
  }
  if (parts.length === 1) {
    // Exactly "${name}": the value keeps its type.
    const only = parts[0] as Generator;
    return { constant: false, expand: only };
  }
  return {
    constant: false,
    expand: (rng) => {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : asText(part(rng));
      return out;
    },
  };
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return NAME.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Compiles a JSON value whose strings may hold templates. Problems (unknown names, bad
 * arguments) are appended to `problems` with their JSON path under `path`.
 */
export function compileTemplate(
  value: unknown,
  variables: Readonly<Record<string, readonly unknown[]>>,
  path: string,
  problems: TemplateProblem[],
): CompiledTemplate {
  if (typeof value === 'string') return compileString(value, variables, path, problems);
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileTemplate(item, variables, childPath(path, i), problems));
    if (items.every((t) => t.constant)) return { constant: true, expand: () => value };
    return { constant: false, expand: (rng) => items.map((t) => t.expand(rng)) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, compileTemplate(v, variables, childPath(path, k), problems)] as const);
    if (entries.every(([, t]) => t.constant)) return { constant: true, expand: () => value };
    return {
      constant: false,
      expand: (rng) => {
        const out: Record<string, unknown> = {};
        for (const [k, t] of entries) out[k] = t.expand(rng);
        return out;
      },
    };
  }
  return { constant: true, expand: () => value };
}

/** Whether a string holds a template expression (a literal `$${` does not count). */
export function hasTemplate(text: string): boolean {
  return /(^|[^$])\$\{/.test(text);
}

/** Variable names must not shadow a built-in generator. */
export function isReservedVariableName(name: string): boolean {
  return (BUILTIN_GENERATORS as readonly string[]).includes(name);
}
