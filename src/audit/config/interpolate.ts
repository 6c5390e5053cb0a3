import type { ConfigEntry, ConfigScalar } from './load-config.js';

/** One `${NAME}`, `${NAME:-default}`, `${NAME-default}` or `${NAME:?message}` in a value. */
export interface EnvReference {
  name: string;
  /** The default written after `:-` / `-`, if any. */
  fallback?: string;
  /** Whether the environment supplied the value (else the default, else nothing). */
  from: 'env' | 'default' | 'unset';
}

export interface ResolvedValue {
  /** The value with every reference replaced; undefined when a reference has no value. */
  value: ConfigScalar | ConfigScalar[] | undefined;
  references: EnvReference[];
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/**
 * Resolves environment references in a string the way docker compose and most settings loaders
 * do: `:-` takes the default when the variable is unset or empty, `-` only when unset.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): { value: string | undefined; references: EnvReference[] } {
  const references: EnvReference[] = [];
  let unresolved = false;
  const value = text.replace(REFERENCE, (_all, name: string, op: string | undefined, arg: string | undefined) => {
    const set = env[name];
    const hasDefault = op === ':-' || op === '-';
    const useDefault = hasDefault && (set === undefined || (op === ':-' && set === ''));
    const ref: EnvReference = { name, ...(hasDefault ? { fallback: arg ?? '' } : {}), from: useDefault ? 'default' : set === undefined ? 'unset' : 'env' };
    references.push(ref);
    if (useDefault) return arg ?? '';
    if (set === undefined) {
      unresolved = true;
      return '';
    }
    return set;
  });
  return { value: unresolved ? undefined : value, references };
}

/** An entry's value with its references resolved (strings and list items alike). */
export function resolveEntry(entry: ConfigEntry, env: Record<string, string | undefined>): ResolvedValue {
  if (!entry.interpolate) return { value: entry.value, references: [] };
  const one = (v: ConfigScalar): { value: ConfigScalar | undefined; references: EnvReference[] } =>
    typeof v === 'string' ? interpolate(v, env) : { value: v, references: [] };
  if (Array.isArray(entry.value)) {
    const parts = entry.value.map(one);
    const references = parts.flatMap((p) => p.references);
    if (parts.some((p) => p.value === undefined)) return { value: undefined, references };
    return { value: parts.map((p) => p.value as ConfigScalar), references };
  }
  return one(entry.value);
}

/** "${NAME}" / "${NAME:-…}", for evidence: the reference without its default value. */
export function describeReference(ref: EnvReference): string {
  return ref.fallback === undefined ? `\${${ref.name}}` : `\${${ref.name}:-…}`;
}
