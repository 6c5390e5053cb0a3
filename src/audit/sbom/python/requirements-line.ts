/**
 * One logical line of a pip requirements file, as pip reads it (pip/_internal/req/req_file.py):
 * "\"-continued lines joined, comments ("#" at the start or after whitespace) removed, then
 * either an option line ("-r x", "--index-url u", "-e url") or a requirement followed by
 * per-requirement options ("--hash=sha256:...").
 */

export interface LogicalLine {
  /** 1-based number of the first physical line. */
  line: number;
  text: string;
}

const COMMENT_START = /^\s*#/;
const COMMENT = /(^|\s+)#.*$/;

export function logicalLines(content: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  const physical = content.split(/\r?\n/);
  let pending: string[] = [];
  let first = 0;
  physical.forEach((raw, i) => {
    const isComment = COMMENT_START.test(raw);
    if (!raw.endsWith('\\') || isComment) {
      if (pending.length > 0) {
        pending.push(isComment ? '' : raw);
        out.push({ line: first, text: pending.join('') });
        pending = [];
      } else {
        out.push({ line: i + 1, text: raw });
      }
    } else {
      if (pending.length === 0) first = i + 1;
      pending.push(raw.slice(0, -1));
    }
  });
  if (pending.length > 0) out.push({ line: first, text: pending.join('') });
  return out
    .map((l) => ({ line: l.line, text: l.text.replace(COMMENT, '').trim() }))
    .filter((l) => l.text !== '');
}

/** An option with its value: "--index-url=u", "--index-url u", "-iu", "-i u". */
export interface OptionToken {
  name: string;
  value?: string;
}

const SHORT_WITH_VALUE = new Set(['-r', '-c', '-e', '-i', '-f']);
const LONG_WITH_VALUE = new Set([
  '--requirement',
  '--constraint',
  '--editable',
  '--index-url',
  '--extra-index-url',
  '--find-links',
  '--hash',
  '--trusted-host',
  '--no-binary',
  '--only-binary',
  '--use-feature',
  '--global-option',
  '--install-option',
  '--config-settings',
  '--platform',
]);

/** Splits option tokens; pip reads options with shlex, so simple quotes are honoured. */
export function parseOptions(text: string): OptionToken[] {
  const tokens = (text.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((t) => t.replace(/^(["'])(.*)\1$/, '$2'));
  const out: OptionToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      if (eq > 0) out.push({ name: token.slice(0, eq), value: token.slice(eq + 1) });
      else if (LONG_WITH_VALUE.has(token)) out.push({ name: token, value: tokens[++i] });
      else out.push({ name: token });
    } else if (token.startsWith('-') && token.length >= 2) {
      const short = token.slice(0, 2);
      if (!SHORT_WITH_VALUE.has(short)) out.push({ name: token });
      else if (token.length > 2) out.push({ name: short, value: token.slice(2).replace(/^=/, '') });
      else out.push({ name: short, value: tokens[++i] });
    }
  }
  return out;
}

/** The requirement part of a line (before the first "-" token) and its options. */
export function splitArgsOptions(text: string): { args: string; options: OptionToken[] } {
  const tokens = text.split(/\s+/);
  const firstOption = tokens.findIndex((t) => t.startsWith('-'));
  if (firstOption < 0) return { args: text, options: [] };
  return { args: tokens.slice(0, firstOption).join(' '), options: parseOptions(tokens.slice(firstOption).join(' ')) };
}

export interface Specifier {
  op: string;
  version: string;
}

export type ParsedRequirement =
  | { kind: 'named'; name: string; extras: string[]; specifiers: Specifier[]; marker?: string }
  /** A URL, VCS or path requirement; `name` when it says (#egg=, "name @ url", a wheel file name). */
  | { kind: 'direct'; name?: string; source: string; local: boolean; marker?: string };

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$/s;
const SPEC = /^\s*(===|==|~=|!=|<=|>=|<|>)\s*([^\s,;]+)\s*$/;

function looksLikeLocation(text: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ||
    /^[a-z]+\+[a-z]+:/i.test(text) ||
    /^file:/i.test(text) ||
    /^(\.|\/|~|[A-Za-z]:[\\/])/.test(text) ||
    /\.(whl|tar\.gz|tgz|zip|tar\.bz2)$/i.test(text)
  );
}

function isLocal(source: string): boolean {
  return !/^([a-z]+\+)?(https?|ssh|git|svn|hg|bzr|ftp):/i.test(source);
}

/** A name a URL or path carries: "#egg=name" or a wheel/sdist file name. */
function nameFromLocation(source: string): string | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(source)?.[1];
  if (egg) return egg;
  const file = source.split(/[?#]/)[0]!.split('/').pop() ?? '';
  const wheel = /^([A-Za-z0-9][A-Za-z0-9._]*)-\d[^-]*-.*\.whl$/i.exec(file)?.[1];
  if (wheel) return wheel;
  return /^([A-Za-z0-9][A-Za-z0-9._-]*?)-\d[^-]*\.(tar\.gz|tgz|zip|tar\.bz2)$/i.exec(file)?.[1];
}

/** Parses the requirement text of a line (PEP 508, pip's URL and path forms). Undefined: not a requirement. */
export function parseRequirement(args: string): ParsedRequirement | undefined {
  const text = args.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@/.test(text) && looksLikeLocation(text)) {
    // pip: the marker of a URL requirement follows "; " (a ";" inside a URL is part of it).
    const cut = text.search(/\s+;\s*|;\s+/);
    const source = cut < 0 ? text : text.slice(0, cut).trim();
    const marker = cut < 0 ? undefined : text.slice(cut).replace(/^\s*;\s*/, '').trim();
    const name = nameFromLocation(source);
    return { kind: 'direct', source, local: isLocal(source), ...(name ? { name } : {}), ...(marker ? { marker } : {}) };
  }
  const semi = text.indexOf(';');
  const body = semi < 0 ? text : text.slice(0, semi);
  const marker = semi < 0 ? undefined : text.slice(semi + 1).trim() || undefined;
  const m = NAME.exec(body.trim());
  if (!m) return undefined;
  const name = m[1]!;
  const extras = (m[2] ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  const rest = m[3]!.trim();
  if (rest.startsWith('@')) {
    // PEP 508 direct reference "name @ url": the marker follows "; " after the URL.
    const full = text.slice(text.indexOf('@') + 1).trim();
    const cut = full.search(/\s+;\s*|;\s+/);
    const source = cut < 0 ? full : full.slice(0, cut).trim();
    const urlMarker = cut < 0 ? undefined : full.slice(cut).replace(/^\s*;\s*/, '').trim();
    return { kind: 'direct', name, source, local: isLocal(source), ...(urlMarker ? { marker: urlMarker } : {}) };
  }
  const specText = rest.replace(/^\((.*)\)$/s, '$1').trim();
  const specifiers: Specifier[] = [];
  if (specText !== '') {
    for (const part of specText.split(',')) {
      const s = SPEC.exec(part);
      if (!s) return undefined;
      specifiers.push({ op: s[1]!, version: s[2]! });
    }
  }
  return { kind: 'named', name, extras, specifiers, ...(marker ? { marker } : {}) };
}

/** The exact version a requirement pins ("==1.2.3", "===1.2.3"), or undefined ("==1.*", ">=1", none). */
export function pinnedVersion(specifiers: Specifier[]): string | undefined {
  const pins = specifiers.filter((s) => (s.op === '==' || s.op === '===') && !s.version.includes('*'));
  return pins.length === 1 ? pins[0]!.version : undefined;
}
