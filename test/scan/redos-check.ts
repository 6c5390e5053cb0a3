import { readFileSync } from 'node:fs';
import { check, type Diagnostics } from 'recheck';
import { expandBuiltinRegex } from '../../src/scan/rules/secret-rules.js';

/**
 * ReDoS checking of rule regexes with recheck, offline: the native binary shipped in the
 * recheck-linux-x64 package when it runs here, else recheck's pure-JS build (RECHECK_BACKEND).
 *
 * recheck's automaton checker decides linearity exactly (ambiguity of the NFA) but supports no
 * look-around and no back-reference. Rules use them only in bounded form (a word-boundary-like
 * `(?<![A-Za-z0-9])`, a quote matched again with `\k<q>`), so the regex is first rewritten into
 * one that backtracks at least as much: a bounded-width look-around is dropped (it can only prune
 * paths; its own cost is constant per position) and a back-reference becomes a copy of its
 * group. A look-around whose content is unbounded is kept, which the automaton checker refuses:
 * such a rule then fails the check, as it should (it costs O(n) per position).
 *
 * Bounded repetitions `{m,n}` are shrunk to at most `{2,3}` first: they add no loop to the NFA, so
 * they cannot change its degree of ambiguity (whether matching is linear, quadratic, ...), only
 * the constant; expanded at full size ({0,4000}) they make the NFA too big to analyse in time.
 * The per-position constant they bring is bounded by the rule's own bounds.
 */

/**
 * The indexes of a regex's syntax characters from `from` on: everything but escaped characters
 * (`\x`, skipped with their backslash) and the insides of character classes (`[...]`, skipped
 * with their brackets). The three scanners below walk only these.
 */
function* syntaxIndexes(source: string, from = 0): Generator<number> {
  let inClass = false;
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else yield i;
  }
}

/** The index just past the group that opens at `open` (a '('). */
function groupEnd(source: string, open: number): number {
  let depth = 0;
  for (const i of syntaxIndexes(source, open)) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced group at ${open} in /${source}/`);
}

/** True when a regex fragment holds an unbounded quantifier (*, +, {n,}) outside a class. */
export function hasUnboundedQuantifier(fragment: string): boolean {
  for (const i of syntaxIndexes(fragment)) {
    const c = fragment[i];
    if ((c === '*' || c === '+') && fragment[i - 1] !== '(') return true;
    if (c === '{' && /^\{\d+,\}/.test(fragment.slice(i))) return true;
  }
  return false;
}

/** `{m,n}` -> `{min(m,2),min(n,3)}` (and `{m}` -> `{min(m,2)}`) outside classes; see above. */
export function shrinkBounds(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '{') {
      const q = /^\{(\d+)(?:(,)(\d*))?\}/.exec(source.slice(i));
      if (q) {
        const m = Math.min(Number(q[1]), 2);
        const n = q[2] === undefined ? undefined : q[3] === '' ? '' : String(Math.max(m, Math.min(Number(q[3]), 3)));
        out += n === undefined ? `{${m}}` : `{${m},${n}}`;
        i += q[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** The regex rewritten for the automaton checker (see above). */
export function forAutomaton(source: string): string {
  return stripLookarounds(shrinkBounds(source));
}

function stripLookarounds(source: string): string {
  const named = new Map<string, string>();
  const numbered: string[] = [];
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const ref = /^\\k<([A-Za-z_$][\w$]*)>/.exec(source.slice(i));
      const num = /^\\([1-9])/.exec(source.slice(i));
      if (!inClass && ref) {
        out += `(?:${named.get(ref[1]!) ?? ''})`;
        i += ref[0].length - 1;
      } else if (!inClass && num) {
        out += `(?:${numbered[Number(num[1]) - 1] ?? ''})`;
        i += 1;
      } else {
        out += source.slice(i, i + 2);
        i++;
      }
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(') {
      const end = groupEnd(source, i);
      const look = /^\(\?<?[=!]/.exec(source.slice(i));
      if (look) {
        const body = source.slice(i + look[0].length, end - 1);
        if (!hasUnboundedQuantifier(body)) {
          i = end - 1;
          continue;
        }
      } else if (!source.startsWith('(?:', i)) {
        const name = /^\(\?<([A-Za-z_$][\w$]*)>/.exec(source.slice(i));
        const body = source.slice(i + (name ? name[0].length : 1), end - 1);
        // Capture groups inside are made non-capturing in the copy a back-reference becomes.
        const copy = stripLookarounds(body).replace(/\((?!\?)/g, '(?:').replace(/\(\?<([A-Za-z_$][\w$]*)>/g, '(?:');
        numbered.push(copy);
        if (name) named.set(name[1]!, copy);
      }
    }
    out += c;
  }
  return out;
}

export interface RegexUnderTest {
  rule: string;
  field: string;
  source: string;
  flags: string;
}

/** Every regex of the built-in secret and pattern rules (rule regexes and their filters). */
export function builtinRuleRegexes(): RegexUnderTest[] {
  const read = (name: string) =>
    JSON.parse(readFileSync(new URL(`../../src/scan/rules/${name}`, import.meta.url), 'utf8')) as { rules: Array<Record<string, any>> };
  const out: RegexUnderTest[] = [];
  const inline = (src: string): [string, string] => (src.startsWith('(?i)') ? [src.slice(4), 'i'] : [src, '']);
  for (const r of read('secrets.json').rules) {
    // Checked as loaded: with the shared lists substituted for their tokens.
    out.push({ rule: r['id'], field: 'regex', source: expandBuiltinRegex(r['regex']), flags: r['flags'] ?? '' });
    for (const field of ['regexes', 'matchRegexes', 'paths']) {
      for (const [i, src] of ((r['allowlist']?.[field] ?? []) as string[]).entries()) {
        const [source, flags] = inline(src);
        out.push({ rule: r['id'], field: `allowlist.${field}[${i}]`, source, flags });
      }
    }
  }
  for (const r of read('patterns.json').rules) {
    out.push({ rule: r['id'], field: 'regex', source: r['regex'], flags: r['flags'] ?? '' });
    for (const field of ['unless-regex', 'line-regex', 'unless-line-regex']) {
      if (r[field]) out.push({ rule: r['id'], field, source: r[field], flags: r['flags'] ?? '' });
    }
    for (const [k, w] of ((r['where'] ?? []) as Array<Record<string, string>>).entries()) {
      out.push({ rule: r['id'], field: `where[${k}]`, source: w['matches'] ?? w['not-matches']!, flags: w['flags'] ?? '' });
    }
  }
  return out;
}

/**
 * The top-level alternatives of a regex. A search for `a|b` costs at most what searches for `a`
 * and for `b` cost together, so `a|b` is linear when each alternative is; checked one by one, the
 * automata stay small enough to analyse in time.
 */
export function topLevelAlternatives(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (const i of syntaxIndexes(source)) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(source.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(source.slice(from));
  return parts;
}

export interface LinearityVerdict {
  status: 'safe' | 'vulnerable' | 'unknown';
  /** For a vulnerable alternative: recheck's complexity and attack string. */
  detail?: string;
}

/** recheck's verdict on one regex: the automaton checker on each rewritten top-level alternative. */
export async function checkLinear(source: string, flags: string, timeoutMs = 2000): Promise<LinearityVerdict> {
  const rewritten = forAutomaton(source);
  let unknown: string | undefined;
  for (const alternative of topLevelAlternatives(rewritten)) {
    // The engine adds g and d; recheck wants neither, nor do they matter for complexity.
    const d: Diagnostics = await check(alternative, flags.replace(/[gdy]/g, ''), {
      checker: 'automaton',
      maxNFASize: 2_000_000,
      maxPatternSize: 100_000,
      timeout: timeoutMs,
    });
    if (d.status === 'vulnerable') return { status: 'vulnerable', detail: `${d.complexity.summary}: ${d.attack.pattern}` };
    if (d.status === 'unknown') unknown ??= `${d.error.kind}${'message' in d.error ? `: ${d.error.message}` : ''}`;
  }
  return unknown === undefined ? { status: 'safe' } : { status: 'unknown', detail: unknown };
}
