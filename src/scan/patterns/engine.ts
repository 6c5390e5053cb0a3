import { fileURLToPath } from 'node:url';
import { InvalidInputError, messageOf } from '../../core/errors.js';
import { SEVERITIES, type Severity } from '../../core/findings.js';
import { readJsonFile } from '../../core/json-file.js';
import { compileSchema, describeSchemaError, type Validator } from '../../core/schema.js';
import type { Engine, RawMatch } from '../types.js';
import { inSpans, lexSource, type LexedSource, type PatternLanguage } from './lexer.js';

export type { PatternLanguage } from './lexer.js';

/** A check on the raw text of one named group, applied only when that group took part in the match. */
export interface GroupCheck {
  group: string;
  matches?: string;
  'not-matches'?: string;
  flags?: string;
}

/**
 * A dangerous-code rule, as data. `regex` runs over the masked code (comments blanked, string
 * contents masked) unless `on` is "raw"; every other regex sees raw text:
 * - `where`: checks on the raw text of named groups (string contents, e.g. the SQL in a literal);
 * - `unless-regex`: drops a match whose raw text matches it (safe forms);
 * - `line-regex` / `unless-line-regex`: keep / drop by the match's line(s), plus `context-lines`
 *   either side, seen with comments blanked but strings intact.
 * `flags` (i, m, s, u) apply to regex, unless-regex and the line regexes. `keywords`: the rule
 * runs only on files whose text contains one of them (case-sensitive); without, always.
 */
export interface PatternRule {
  id: string;
  title: string;
  severity: Severity;
  languages: PatternLanguage[];
  keywords?: string[];
  regex: string;
  flags?: string;
  on?: 'code' | 'raw';
  where?: GroupCheck[];
  'unless-regex'?: string;
  'line-regex'?: string;
  'unless-line-regex'?: string;
  'context-lines'?: number;
  remediation: string;
  cwe: string;
  description?: string;
}

/** The loaded rules: plain JSON, so a worker thread can rebuild the engine from it. */
export interface PatternRuleSet {
  rules: PatternRule[];
}

export interface LoadPatternRulesOptions {
  /** A rules file ({"rules": [...]}); a rule with a built-in id replaces the built-in one. */
  extraRulesFile?: string;
  /** Rule ids to turn off; an unknown id is an error. */
  disable?: string[];
}

const FLAGS = { type: 'string', pattern: '^(?!.*(.).*\\1)[imsu]*$' } as const;
const REGEX = { type: 'string', minLength: 1 } as const;

const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'severity', 'languages', 'regex', 'remediation', 'cwe'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 },
    title: { type: 'string', minLength: 1 },
    severity: { type: 'string', enum: [...SEVERITIES] },
    languages: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['python', 'javascript'] } },
    keywords: { type: 'array', items: { type: 'string', minLength: 1 } },
    regex: REGEX,
    flags: FLAGS,
    on: { type: 'string', enum: ['code', 'raw'] },
    where: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['group'],
        properties: { group: { type: 'string', pattern: '^[A-Za-z_$][\\w$]*$' }, matches: REGEX, 'not-matches': REGEX, flags: FLAGS },
      },
    },
    'unless-regex': REGEX,
    'line-regex': REGEX,
    'unless-line-regex': REGEX,
    'context-lines': { type: 'integer', minimum: 0, maximum: 10 },
    remediation: { type: 'string', minLength: 1 },
    cwe: { type: 'string', pattern: '^CWE-[0-9]+$' },
    description: { type: 'string' },
  },
} as const;

const fileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: { $schema: { type: 'string' }, rules: { type: 'array', items: ruleSchema } },
};

// Compiled on first use: scan workers build engines from already-validated rule sets.
let validateFile: Validator<PatternRuleSet> | undefined;

export const BUILTIN_PATTERN_RULES = fileURLToPath(new URL('../rules/patterns.json', import.meta.url));

/** .py/.pyw -> python; .js .mjs .cjs .jsx .ts .tsx .mts .cts -> javascript; anything else: none. */
export function patternLanguageOf(path: string): PatternLanguage | undefined {
  const dot = path.lastIndexOf('.');
  if (dot === -1 || dot < path.lastIndexOf('/')) return undefined;
  switch (path.slice(dot + 1).toLowerCase()) {
    case 'py':
    case 'pyw':
      return 'python';
    case 'js':
    case 'mjs':
    case 'cjs':
    case 'jsx':
    case 'ts':
    case 'tsx':
    case 'mts':
    case 'cts':
      return 'javascript';
    default:
      return undefined;
  }
}

function regexOf(source: string, flags: string, where: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new InvalidInputError(`${where}: invalid regular expression: ${messageOf(err).replace(/^Invalid regular expression: /, '')}`);
  }
}

/** Checks what the schema cannot: regexes compile, groups named in `where` exist, ids are unique. */
function checkRules(rules: PatternRule[], source: string): void {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    const at = `${source}: $.rules[${index}] (rule "${rule.id}")`;
    if (seen.has(rule.id)) throw new InvalidInputError(`${at}: duplicate rule id "${rule.id}"`);
    seen.add(rule.id);
    const flags = rule.flags ?? '';
    regexOf(rule.regex, flags, `${at}.regex`);
    for (const field of ['unless-regex', 'line-regex', 'unless-line-regex'] as const) {
      const value = rule[field];
      if (value !== undefined) regexOf(value, flags, `${at}.${field}`);
    }
    const groups = new Set([...rule.regex.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]));
    (rule.where ?? []).forEach((check, k) => {
      if ((check.matches === undefined) === (check['not-matches'] === undefined)) {
        throw new InvalidInputError(`${at}.where[${k}]: give exactly one of "matches" and "not-matches"`);
      }
      if (!groups.has(check.group)) throw new InvalidInputError(`${at}.where[${k}]: the regex has no group named "${check.group}"`);
      regexOf(check.matches ?? check['not-matches'] ?? '', check.flags ?? '', `${at}.where[${k}]`);
    });
  });
}

async function readRulesFile(path: string): Promise<PatternRule[]> {
  const data = await readJsonFile(path, 'rules file');
  validateFile ??= compileSchema<PatternRuleSet>(fileSchema);
  if (!validateFile(data)) {
    const rules = (data as { rules?: unknown } | null)?.rules;
    const problems = (validateFile.errors ?? []).map((error) => {
      const index = /^\/rules\/(\d+)/.exec(error.instancePath)?.[1];
      const id = index !== undefined && Array.isArray(rules) ? (rules[Number(index)] as { id?: unknown } | undefined)?.id : undefined;
      return `${describeSchemaError(error)}${typeof id === 'string' ? ` (rule "${id}")` : ''}`;
    });
    throw new InvalidInputError(`${path} is invalid: ${[...new Set(problems)].join('; ')}`);
  }
  checkRules(data.rules, path);
  return data.rules;
}

/** Loads the built-in rules, merges a user file over them and removes disabled ones. */
export async function loadPatternRules(options: LoadPatternRulesOptions = {}): Promise<PatternRuleSet> {
  const byId = new Map<string, PatternRule>();
  for (const rule of await readRulesFile(BUILTIN_PATTERN_RULES)) byId.set(rule.id, rule);
  if (options.extraRulesFile !== undefined) {
    for (const rule of await readRulesFile(options.extraRulesFile)) byId.set(rule.id, rule);
  }
  const known = [...byId.keys()].sort();
  for (const id of new Set(options.disable ?? [])) {
    if (!byId.delete(id)) {
      throw new InvalidInputError(`cannot disable unknown pattern rule "${id}"`, {
        hint: `known rules: ${known.join(', ')}`,
      });
    }
  }
  return { rules: [...byId.values()] };
}

interface CompiledCheck {
  group: string;
  regex: RegExp;
  negate: boolean;
}

interface CompiledRule {
  rule: PatternRule;
  regex: RegExp;
  raw: boolean;
  keywords: string[];
  checks: CompiledCheck[];
  unless?: RegExp;
  lineKeep?: RegExp;
  lineDrop?: RegExp;
  contextLines: number;
}

function compileRule(rule: PatternRule): CompiledRule {
  const flags = (rule.flags ?? '').replace(/[gdy]/g, '');
  const at = `pattern rule "${rule.id}"`;
  const checks = (rule.where ?? []).map((c) => ({
    group: c.group,
    regex: regexOf(c.matches ?? c['not-matches'] ?? '', (c.flags ?? '').replace(/[gdy]/g, ''), `${at} where`),
    negate: c.matches === undefined,
  }));
  return {
    rule,
    regex: regexOf(rule.regex, `${flags}g${checks.length > 0 ? 'd' : ''}`, at),
    raw: rule.on === 'raw',
    keywords: rule.keywords ?? [],
    checks,
    ...(rule['unless-regex'] ? { unless: regexOf(rule['unless-regex'], flags, at) } : {}),
    ...(rule['line-regex'] ? { lineKeep: regexOf(rule['line-regex'], flags, at) } : {}),
    ...(rule['unless-line-regex'] ? { lineDrop: regexOf(rule['unless-line-regex'], flags, at) } : {}),
    contextLines: rule['context-lines'] ?? 0,
  };
}

const MAX_VALUE = 120;

/** Per-file state: line starts are computed once, and only when a match needs them. */
class FileView {
  private starts: number[] | undefined;
  constructor(
    readonly text: string,
    readonly lexed: LexedSource,
  ) {}

  private lineStarts(): number[] {
    if (!this.starts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.starts = starts;
    }
    return this.starts;
  }

  /** 0-based line index of `offset`. */
  lineIndex(offset: number): number {
    const starts = this.lineStarts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  lineStart(index: number): number {
    return this.lineStarts()[index]!;
  }

  /** Lines `first..last` (0-based, clamped) with comments blanked and strings left as written. */
  context(first: number, last: number): string {
    const starts = this.lineStarts();
    const from = starts[Math.max(0, first)]!;
    const nextLine = starts[Math.min(starts.length - 1, last) + 1];
    const to = nextLine === undefined ? this.text.length : nextLine - 1;
    const comments = this.lexed.comments;
    // First comment that may end after `from` (binary search over the ascending pairs).
    let lo = 0;
    let hi = comments.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (comments[mid * 2 + 1]! <= from) lo = mid + 1;
      else hi = mid;
    }
    let out = '';
    let pos = from;
    for (let k = lo * 2; k < comments.length; k += 2) {
      const cs = comments[k]!;
      const ce = comments[k + 1]!;
      if (ce <= from) continue;
      if (cs >= to) break;
      const s = Math.max(cs, from);
      out += this.text.slice(pos, s) + ' '.repeat(Math.min(ce, to) - s);
      pos = Math.min(ce, to);
    }
    return out + this.text.slice(pos, to);
  }
}

function snippet(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_VALUE ? trimmed : `${trimmed.slice(0, MAX_VALUE - 1)}…`;
}

function accept(c: CompiledRule, m: RegExpExecArray, file: FileView, start: number, end: number): boolean {
  const { text, lexed } = file;
  // A raw-text rule must not start inside a comment or inside a literal's contents.
  if (c.raw && (inSpans(lexed.comments, start) || inSpans(lexed.strings, start))) return false;
  if (c.checks.length > 0) {
    const groups = m.indices?.groups;
    for (const check of c.checks) {
      const span = groups?.[check.group];
      if (!span) continue;
      if (check.regex.test(text.slice(span[0], span[1])) === check.negate) return false;
    }
  }
  if (c.unless && c.unless.test(text.slice(start, end))) return false;
  if (c.lineKeep || c.lineDrop) {
    const first = file.lineIndex(start) - c.contextLines;
    const last = file.lineIndex(Math.max(start, end - 1)) + c.contextLines;
    const context = file.context(first, last);
    if (c.lineKeep && !c.lineKeep.test(context)) return false;
    if (c.lineDrop && c.lineDrop.test(context)) return false;
  }
  return true;
}

/** Builds the engine from loaded rules (as returned by loadPatternRules, or its JSON copy). */
export function createPatternsEngine(ruleSet: PatternRuleSet): Engine {
  const byLanguage: Record<PatternLanguage, CompiledRule[]> = { python: [], javascript: [] };
  for (const rule of ruleSet.rules) {
    const compiled = compileRule(rule);
    for (const language of rule.languages) byLanguage[language].push(compiled);
  }

  return {
    scan(text: string, path: string): RawMatch[] {
      const language = patternLanguageOf(path);
      if (!language) return [];
      const present = new Map<string, boolean>();
      const has = (keyword: string): boolean => {
        let found = present.get(keyword);
        if (found === undefined) present.set(keyword, (found = text.includes(keyword)));
        return found;
      };
      const active = byLanguage[language].filter((c) => c.keywords.length === 0 || c.keywords.some(has));
      if (active.length === 0) return [];

      const lexed = lexSource(text, language);
      const file = new FileView(text, lexed);
      const matches: RawMatch[] = [];
      for (const c of active) {
        const regex = c.regex;
        const view = c.raw ? text : lexed.masked;
        regex.lastIndex = 0;
        for (let m = regex.exec(view); m !== null; m = regex.exec(view)) {
          const end = m.index + m[0].length;
          if (m[0].length === 0) {
            regex.lastIndex = m.index + 1;
            continue;
          }
          let start = m.index;
          while (start < end && /\s/.test(text[start]!)) start++;
          if (!accept(c, m, file, start, end)) {
            // Rejected: look again from the next character, so an overlapping real match is not skipped.
            regex.lastIndex = m.index + 1;
            continue;
          }
          const line = file.lineIndex(start);
          matches.push({
            rule: c.rule.id,
            title: c.rule.title,
            severity: c.rule.severity,
            category: 'dangerous-code',
            line: line + 1,
            column: start - file.lineStart(line) + 1,
            value: snippet(text.slice(start, end)),
            remediation: c.rule.remediation,
            cwe: c.rule.cwe,
          });
        }
      }
      return matches.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
    },
  };
}
