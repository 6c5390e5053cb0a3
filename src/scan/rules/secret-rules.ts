import { fileURLToPath } from 'node:url';
import { DEFAULT_ADMIN_CREDENTIALS } from '../../core/default-credentials.js';
import { readJsonFile } from '../../core/json-file.js';
import { InvalidInputError, messageOf } from '../../core/errors.js';
import { SEVERITIES, type Severity } from '../../core/findings.js';
import { assertValid, compileSchema, type Validator } from '../../core/schema.js';
import type { PlaceholderLevel } from '../placeholders.js';

/**
 * Secret rules are data: src/scan/rules/secrets.json (built in) plus an optional user file of the
 * same shape. A rule set is plain JSON, so a worker thread can receive it by structured clone and
 * rebuild the engine with createSecretsEngine().
 */
export interface SecretRuleAllowlist {
  /** Regexes tested against the secret value; a hit drops the finding. "(?i)" prefix = ignore case. */
  regexes?: string[];
  /** Regexes tested against the rule's whole regex match (e.g. to exclude some assignment names). */
  matchRegexes?: string[];
  /** Case-insensitive substrings of the secret value that drop the finding. */
  stopwords?: string[];
  /** Regexes tested against the file path (relative, forward slashes): the rule does not run there. */
  paths?: string[];
}

export interface SecretRule {
  /** Stable id: lower-case letters, digits and dashes. */
  id: string;
  title: string;
  severity: Severity;
  /**
   * JavaScript regex source. The secret is the named group `secret` if there is one, else the
   * first capture group that took part in the match, else the whole match.
   */
  regex: string;
  /** Regex flags among i, m, s, u, v (the engine adds g and d). */
  flags?: string;
  /** Lower-case literals; the rule runs only on lines containing one (case-insensitive). */
  keywords: string[];
  /** Minimum Shannon entropy (bits per character) of the secret. */
  entropy?: number;
  /** Lines around a keyword hit the regex may span (multi-line rules: private keys, JSON). */
  context?: { before?: number; after?: number };
  /** Overlapping findings of several rules: the highest priority wins (default 50; generic 0). */
  priority?: number;
  /** Placeholder rejection level (default "lenient"); see placeholders.ts. */
  placeholders?: PlaceholderLevel;
  allowlist?: SecretRuleAllowlist;
  remediation: string;
  /** "CWE-798" style. */
  cwe?: string;
}

export interface SecretRulesFile {
  version?: 1;
  rules: SecretRule[];
}

/** What the engine is built from: plain JSON (structured-clone safe). */
export interface SecretRuleSet {
  rules: SecretRule[];
}

export interface LoadSecretRulesOptions {
  /** A user rules file (same schema): new ids are added, existing ids replaced. */
  extraRulesFile?: string;
  /** Rule ids to leave out; an unknown id is an error. */
  disable?: string[];
}

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const secretRulesFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    $schema: { type: 'string' },
    version: { type: 'integer', enum: [1] },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'severity', 'regex', 'keywords', 'remediation'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 100 },
          title: { type: 'string', minLength: 1 },
          severity: { type: 'string', enum: [...SEVERITIES] },
          regex: { type: 'string', minLength: 1 },
          flags: { type: 'string', pattern: '^[imsuv]*$' },
          keywords: {
            type: 'array',
            minItems: 1,
            // Printable ASCII without upper-case letters: the prefilter matches case-insensitively.
            items: { type: 'string', minLength: 2, maxLength: 100, pattern: '^[\\x20-\\x40\\x5b-\\x7e]+$' },
          },
          entropy: { type: 'number', minimum: 0, maximum: 8 },
          context: {
            type: 'object',
            additionalProperties: false,
            properties: {
              before: { type: 'integer', minimum: 0, maximum: 200 },
              after: { type: 'integer', minimum: 0, maximum: 200 },
            },
          },
          priority: { type: 'integer', minimum: 0, maximum: 100 },
          placeholders: { type: 'string', enum: ['strict', 'lenient', 'off'] },
          allowlist: {
            type: 'object',
            additionalProperties: false,
            properties: {
              regexes: stringList,
              matchRegexes: stringList,
              stopwords: stringList,
              paths: stringList,
            },
          },
          remediation: { type: 'string', minLength: 1 },
          cwe: { type: 'string', pattern: '^CWE-[0-9]+$' },
        },
      },
    },
  },
} as const;

// Compiled on first use: scan workers import this module for its checks but never validate files.
let validateRulesFile: Validator<SecretRulesFile> | undefined;

/** The built-in rules file, next to this module in src/ (vitest, tsx) and in dist/ (copied by the build). */
export const BUILTIN_SECRET_RULES_FILE = fileURLToPath(new URL('./secrets.json', import.meta.url));

/** "(?i)abc" -> /abc/i: the one inline flag allowlist regexes may carry (data files have no flags field there). */
export function compileAllowlistRegex(source: string): RegExp {
  return source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source);
}

/** Compiles every regex of a rule; throws an InvalidInputError naming the source, rule and regex. */
export function checkSecretRule(rule: SecretRule, source: string): void {
  const fail = (what: string, err: unknown): never => {
    throw new InvalidInputError(`${source}: rule "${rule.id}": invalid ${what}: ${messageOf(err)}`);
  };
  let regex: RegExp;
  try {
    regex = new RegExp(rule.regex, `${rule.flags ?? ''}gd`);
  } catch (err) {
    return fail('regex', err);
  }
  regex.lastIndex = 0;
  const empty = regex.exec('');
  if (empty !== null) fail('regex', new Error(`/${rule.regex}/ matches the empty string`));
  const lists: Array<[string, string[] | undefined]> = [
    ['allowlist.regexes', rule.allowlist?.regexes],
    ['allowlist.matchRegexes', rule.allowlist?.matchRegexes],
    ['allowlist.paths', rule.allowlist?.paths],
  ];
  for (const [what, list] of lists) {
    for (const [i, src] of (list ?? []).entries()) {
      try {
        compileAllowlistRegex(src);
      } catch (err) {
        fail(`${what}[${i}]`, err);
      }
    }
  }
}

/** Validates a parsed rules file (schema, unique ids, every regex); `source` names it in errors. */
export function parseSecretRulesFile(value: unknown, source: string): SecretRulesFile {
  validateRulesFile ??= compileSchema<SecretRulesFile>(secretRulesFileSchema);
  const file = assertValid(validateRulesFile, value, source);
  const seen = new Set<string>();
  for (const [i, rule] of file.rules.entries()) {
    if (seen.has(rule.id)) {
      throw new InvalidInputError(`${source} is invalid: $.rules[${i}].id: duplicate rule id "${rule.id}"`);
    }
    seen.add(rule.id);
    checkSecretRule(rule, source);
  }
  return file;
}

/** A non-capturing alternation of literals, longest first, each regex-escaped. */
function literalAlternation(values: readonly string[]): string {
  const unique = [...new Set(values)].sort((a, b) => b.length - a.length || a.localeCompare(b));
  return `(?:${unique.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
}

/**
 * Tokens the built-in rule regexes may hold, replaced at load time with lists other commands
 * share: `scan secrets`, `audit --config` and `audit --api` then agree on what a default
 * credential is (core/default-credentials.ts). A finite alternation of literals has no loop, so
 * it keeps a linear rule linear. User rule files get no substitution.
 */
export const BUILTIN_REGEX_TOKENS: Readonly<Record<string, string>> = {
  '{{DEFAULT_ADMIN_CREDENTIALS}}': literalAlternation(DEFAULT_ADMIN_CREDENTIALS),
};

/** A built-in rule regex with its tokens replaced. */
export function expandBuiltinRegex(source: string): string {
  let out = source;
  for (const [token, value] of Object.entries(BUILTIN_REGEX_TOKENS)) out = out.split(token).join(value);
  return out;
}

async function readRulesFile(path: string, builtin = false): Promise<SecretRulesFile> {
  const value = await readJsonFile(path, 'rules file');
  if (builtin) {
    const rules = (value as { rules?: unknown }).rules;
    for (const rule of Array.isArray(rules) ? (rules as Array<{ regex?: unknown }>) : []) {
      if (typeof rule?.regex === 'string') rule.regex = expandBuiltinRegex(rule.regex);
    }
  }
  return parseSecretRulesFile(value, path);
}

/**
 * The built-in rules, merged with a user file (same schema; an existing id is replaced in place,
 * a new id appended) minus the disabled ids. Everything is validated and every regex compiled.
 */
export async function loadSecretRules(options: LoadSecretRulesOptions = {}): Promise<SecretRuleSet> {
  const builtin = await readRulesFile(BUILTIN_SECRET_RULES_FILE, true);
  const rules = new Map<string, SecretRule>(builtin.rules.map((rule) => [rule.id, rule]));
  if (options.extraRulesFile !== undefined) {
    const extra = await readRulesFile(options.extraRulesFile);
    for (const rule of extra.rules) rules.set(rule.id, rule);
  }
  const disable = [...new Set(options.disable ?? [])];
  const unknown = disable.filter((id) => !rules.has(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown secret rule id${unknown.length > 1 ? 's' : ''} to disable: ${unknown.join(', ')}`,
      { hint: 'list the rule ids with: govctl scan rules secrets (add --rules FILE for yours)' },
    );
  }
  for (const id of disable) rules.delete(id);
  return { rules: [...rules.values()] };
}
