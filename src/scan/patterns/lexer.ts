/**
 * A small, linear-time lexer for Python and JavaScript/TypeScript that produces a "masked" copy
 * of a source text: the same length, comments replaced by spaces and string-literal contents
 * replaced by MASK_CHAR, with quotes, newlines and all code kept where they were. Pattern rules
 * run their regexes over the masked text, so `eval(` in a comment or a string never looks like
 * code, while line and column positions stay those of the original text.
 *
 * Code inside string interpolation (JS `${expr}`, Python f-string `{expr}`) stays unmasked.
 * The lexer never throws and never backtracks more than one line: malformed input (unterminated
 * strings, comments, templates) is masked to the end of the line for single-line string kinds
 * and to the end of the file otherwise.
 */

export type PatternLanguage = 'python' | 'javascript';

/** What string-literal (and regex-literal) contents become in the masked text. */
export const MASK_CHAR = 'x';

export interface LexedSource {
  /** Same length as the input: comments blanked, literal contents masked, newlines kept. */
  masked: string;
  /**
   * Offsets of literal contents, as flat [start, end) pairs in ascending order: string contents
   * (each piece of an interpolated string separately) and JS regex-literal bodies. The raw
   * contents of a literal are `text.slice(start, end)`.
   */
  strings: number[];
  /** Offsets of comments, as flat [start, end) pairs in ascending order. */
  comments: number[];
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const DQUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const QUOTE = 39;
const RPAREN = 41;
const STAR = 42;
const DOT = 46;
const LT = 60;
const EQUALS = 61;
const GT = 62;
const SLASH = 47;
const BACKSLASH = 92;
const LBRACKET = 91;
const RBRACKET = 93;
const BACKTICK = 96;
const LBRACE = 123;
const RBRACE = 125;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === DOLLAR || c > 127;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isSpace(c: number): boolean {
  return c === SPACE || c === 9 || c === LF || c === CR || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff;
}

/** Index of the next LF or CR at or after `from`, or the text length. */
function lineEnd(text: string, from: number): number {
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) return i;
  }
  return n;
}

const NOT_NEWLINE = /[^\r\n]/g;

/** Collects the masked text as slices of the original plus filled runs, in ascending order. */
class Masker {
  private readonly parts: string[] = [];
  private pos = 0;
  readonly strings: number[] = [];
  readonly comments: number[] = [];

  constructor(private readonly text: string) {}

  private fill(start: number, end: number, ch: string): void {
    if (start > this.pos) this.parts.push(this.text.slice(this.pos, start));
    const run = this.text.slice(start, end);
    this.parts.push(run.indexOf('\n') === -1 && run.indexOf('\r') === -1 ? ch.repeat(run.length) : run.replace(NOT_NEWLINE, ch));
    this.pos = end;
  }

  string(start: number, end: number): void {
    const e = Math.min(end, this.text.length);
    if (e <= start) return;
    this.strings.push(start, e);
    this.fill(start, e, MASK_CHAR);
  }

  comment(start: number, end: number): void {
    const e = Math.min(end, this.text.length);
    if (e <= start) return;
    this.comments.push(start, e);
    this.fill(start, e, ' ');
  }

  finish(): LexedSource {
    if (this.pos < this.text.length) this.parts.push(this.text.slice(this.pos));
    return { masked: this.parts.join(''), strings: this.strings, comments: this.comments };
  }
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const JS_REGEX_KEYWORDS = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);

export function lexJavaScript(text: string): LexedSource {
  const n = text.length;
  const out = new Masker(text);
  let i = 0;
  /** Whether a `/` here would start a regex literal (the previous token ends no expression). */
  let regexOk = true;
  /** A failed regex attempt scanned to this line end: no new attempts before it (keeps it linear). */
  let noRegexBefore = -1;
  let depth = 0;
  /** Brace depths at which an open `${` returns to its template. */
  const templates: number[] = [];

  /** Scans template contents from `from` to a closing backtick or the next `${`. */
  const template = (from: number): number => {
    let j = from;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === BACKSLASH) j += 2;
      else if (c === BACKTICK) {
        out.string(from, j);
        regexOk = false;
        return j + 1;
      } else if (c === DOLLAR && text.charCodeAt(j + 1) === LBRACE) {
        out.string(from, j);
        templates.push(depth);
        regexOk = true;
        return j + 2;
      } else j++;
    }
    out.string(from, n);
    return n;
  };

  /** Index of the closing `/` of a regex body starting at `from`, or -1 when the line ends first. */
  const regexEnd = (from: number): number => {
    let inClass = false;
    for (let j = from; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === LF || c === CR) return -1;
      if (c === BACKSLASH) {
        const d = text.charCodeAt(j + 1);
        if (d === LF || d === CR) return -1;
        j++;
      } else if (inClass) {
        if (c === RBRACKET) inClass = false;
      } else if (c === LBRACKET) inClass = true;
      else if (c === SLASH) return j;
    }
    return -1;
  };

  if (text.startsWith('#!')) {
    i = lineEnd(text, 0);
    out.comment(0, i);
  }

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === SLASH) {
      const d = text.charCodeAt(i + 1);
      if (d === SLASH) {
        const e = lineEnd(text, i);
        out.comment(i, e);
        i = e;
        continue;
      }
      if (d === STAR) {
        const close = text.indexOf('*/', i + 2);
        const e = close === -1 ? n : close + 2;
        out.comment(i, e);
        i = e;
        continue;
      }
      if (regexOk && i >= noRegexBefore) {
        const end = regexEnd(i + 1);
        if (end !== -1) {
          out.string(i + 1, end);
          i = end + 1;
          while (i < n && isIdentPart(text.charCodeAt(i))) i++;
          regexOk = false;
          continue;
        }
        noRegexBefore = lineEnd(text, i);
      }
      regexOk = true;
      i++;
      continue;
    }
    if (c === QUOTE || c === DQUOTE) {
      let j = i + 1;
      let end = -1;
      while (j < n) {
        const ch = text.charCodeAt(j);
        if (ch === BACKSLASH) j += text.charCodeAt(j + 1) === CR && text.charCodeAt(j + 2) === LF ? 3 : 2;
        else if (ch === c) {
          end = j;
          break;
        } else if (ch === LF || ch === CR) break;
        else j++;
      }
      if (end === -1) {
        // Unterminated: the string ends at the end of the line.
        const e = Math.min(j, n);
        out.string(i + 1, e);
        i = e;
      } else {
        out.string(i + 1, end);
        i = end + 1;
      }
      regexOk = false;
      continue;
    }
    if (c === BACKTICK) {
      i = template(i + 1);
      continue;
    }
    if (c === LBRACE) {
      depth++;
      regexOk = true;
      i++;
      continue;
    }
    if (c === RBRACE) {
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        i = template(i + 1);
        continue;
      }
      if (depth > 0) depth--;
      regexOk = true;
      i++;
      continue;
    }
    if (isIdentStart(c) || c === BACKSLASH) {
      const start = i;
      const afterDot = i > 0 && text.charCodeAt(i - 1) === DOT;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isIdentPart(d)) i++;
        else if (d === BACKSLASH) i += 2;
        else break;
      }
      regexOk = !afterDot && JS_REGEX_KEYWORDS.has(text.slice(start, i));
      continue;
    }
    if (isDigit(c)) {
      i++;
      while (i < n && (isIdentPart(text.charCodeAt(i)) || text.charCodeAt(i) === DOT)) i++;
      regexOk = false;
      continue;
    }
    // After `)`, `]` or `.` a `/` divides; after `<` or `>` it almost always does too (comparisons,
    // generics, JSX closing tags), except in an arrow `=>`.
    if (c === LT) regexOk = false;
    else if (c === GT) regexOk = i > 0 && text.charCodeAt(i - 1) === EQUALS;
    else regexOk = !(c === RPAREN || c === RBRACKET || c === DOT);
    i++;
  }
  return out.finish();
}

/** Python string prefixes (lower-cased); an `f` or `t` makes `{expr}` parts code. */
const PY_PREFIXES = new Set(['r', 'u', 'b', 'f', 't', 'br', 'rb', 'fr', 'rf', 'tr', 'rt']);

interface FFrame {
  quote: number;
  triple: boolean;
  /** The brace depth at which the `}` closing this replacement field returns to the string. */
  depth: number;
}

export function lexPython(text: string): LexedSource {
  const n = text.length;
  const out = new Masker(text);
  const frames: FFrame[] = [];
  let depth = 0;
  let i = 0;

  /** Scans string contents from `from` to the closing quote(s), a newline (single-line kinds) or an f-string `{`. */
  const body = (from: number, quote: number, triple: boolean, fstring: boolean): number => {
    let j = from;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === BACKSLASH) {
        j += text.charCodeAt(j + 1) === CR && text.charCodeAt(j + 2) === LF ? 3 : 2;
        continue;
      }
      if (c === quote) {
        if (!triple) {
          out.string(from, j);
          return j + 1;
        }
        if (text.charCodeAt(j + 1) === quote && text.charCodeAt(j + 2) === quote) {
          out.string(from, j);
          return j + 3;
        }
        j++;
        continue;
      }
      if (!triple && (c === LF || c === CR)) {
        out.string(from, j);
        return j;
      }
      if (fstring && c === LBRACE) {
        if (text.charCodeAt(j + 1) === LBRACE) {
          j += 2;
          continue;
        }
        out.string(from, j);
        frames.push({ quote, triple, depth });
        return j + 1;
      }
      j++;
    }
    out.string(from, n);
    return n;
  };

  const string = (at: number, fstring: boolean): number => {
    const quote = text.charCodeAt(at);
    const triple = text.charCodeAt(at + 1) === quote && text.charCodeAt(at + 2) === quote;
    return body(at + (triple ? 3 : 1), quote, triple, fstring);
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === HASH) {
      const e = lineEnd(text, i);
      out.comment(i, e);
      i = e;
      continue;
    }
    if (c === QUOTE || c === DQUOTE) {
      i = string(i, false);
      continue;
    }
    if (isIdentStart(c) && c !== DOLLAR) {
      const start = i;
      i++;
      while (i < n && isIdentPart(text.charCodeAt(i)) && text.charCodeAt(i) !== DOLLAR) i++;
      const next = text.charCodeAt(i);
      if ((next === QUOTE || next === DQUOTE) && i - start <= 2) {
        const prefix = text.slice(start, i).toLowerCase();
        if (PY_PREFIXES.has(prefix)) i = string(i, prefix.includes('f') || prefix.includes('t'));
      }
      continue;
    }
    if (c === LBRACE) {
      depth++;
      i++;
      continue;
    }
    if (c === RBRACE) {
      const top = frames[frames.length - 1];
      if (top && top.depth === depth) {
        frames.pop();
        i = body(i + 1, top.quote, top.triple, true);
        continue;
      }
      if (depth > 0) depth--;
      i++;
      continue;
    }
    if (c === LF || c === CR) {
      // A single-line f-string whose replacement field is still open at the end of the line is
      // malformed (or a rare multi-line field): end it here so one bad line cannot mask the file.
      const top = frames[frames.length - 1];
      if (top && !top.triple) {
        frames.pop();
        depth = top.depth;
      }
    }
    i++;
  }
  return out.finish();
}

/** Masks `text` as `language` source. */
export function lexSource(text: string, language: PatternLanguage): LexedSource {
  return language === 'python' ? lexPython(text) : lexJavaScript(text);
}

/** The raw contents of every literal, in order (for tests and rules that need string views). */
export function literalContents(text: string, lexed: LexedSource): string[] {
  const result: string[] = [];
  for (let k = 0; k < lexed.strings.length; k += 2) result.push(text.slice(lexed.strings[k]!, lexed.strings[k + 1]!));
  return result;
}

/** True when `offset` lies inside one of the flat [start, end) `spans` (ascending). */
export function inSpans(spans: number[], offset: number): boolean {
  let lo = 0;
  let hi = spans.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const start = spans[mid * 2]!;
    const end = spans[mid * 2 + 1]!;
    if (offset < start) hi = mid - 1;
    else if (offset >= end) lo = mid + 1;
    else return true;
  }
  return false;
}
