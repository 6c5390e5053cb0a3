import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { MetricDef } from './metric-types.js';
import type { DocRequirement, MetricSource } from './types.js';

/**
 * G8 documentation, measured live from the files at evaluation time (paths relative to cwd). A
 * document is non-trivial when it:
 * - exists as a regular file (the first of its candidate paths that does),
 * - has at least `min_bytes` bytes and `min_prose_lines` lines of prose (outside code fences; not
 *   a heading, not a table rule, at least three words),
 * - has at least `min_headings` Markdown headings (`#` style or underlined),
 * - and, when `heading` is set, has a heading matching it (case-insensitive regular expression)
 *   whose section, up to the next heading of the same or a higher level, has at least
 *   `min_section_lines` non-blank lines (prose, lists or code: a quick start is mostly commands).
 * The metric is the number of required documents that are missing or trivial.
 */

export const DOC_DEFAULTS = { min_bytes: 300, min_prose_lines: 5, min_headings: 1, min_section_lines: 3 } as const;

interface Heading {
  line: number;
  level: number;
  text: string;
}

interface DocStats {
  bytes: number;
  proseLines: number;
  headings: Heading[];
  lines: string[];
  /** Line indexes inside code fences. */
  inCode: Set<number>;
}

export function analyseMarkdown(text: string): DocStats {
  const lines = text.split(/\r?\n/);
  const headings: Heading[] = [];
  const inCode = new Set<number>();
  let fence: string | undefined;
  let proseLines = 0;
  lines.forEach((line, i) => {
    const fenceMatch = /^\s{0,3}(```|~~~)/.exec(line);
    if (fenceMatch) {
      if (fence === undefined) fence = fenceMatch[1];
      else if (fenceMatch[1] === fence) fence = undefined;
      inCode.add(i);
      return;
    }
    if (fence !== undefined) {
      inCode.add(i);
      return;
    }
    const atx = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (atx) {
      headings.push({ line: i, level: atx[1]!.length, text: atx[2]! });
      return;
    }
    const next = lines[i + 1];
    if (line.trim() !== '' && next !== undefined && /^\s{0,3}(=+|-+)\s*$/.test(next) && !/^\s*[-*+]\s/.test(line)) {
      headings.push({ line: i, level: next.trim().startsWith('=') ? 1 : 2, text: line.trim() });
      return;
    }
    if (/^\s*\|?[\s:|-]+\|?\s*$/.test(line) && line.includes('-')) return;
    if (line.trim().split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length >= 3) proseLines += 1;
  });
  return { bytes: Buffer.byteLength(text), proseLines, headings, lines, inCode };
}

/** Non-blank lines of the section under `heading`, or undefined when no heading matches. */
function sectionLines(stats: DocStats, pattern: RegExp): { heading: string; lines: number } | undefined {
  const index = stats.headings.findIndex((h) => pattern.test(h.text));
  if (index === -1) return undefined;
  const heading = stats.headings[index]!;
  const end = stats.headings.slice(index + 1).find((h) => h.level <= heading.level)?.line ?? stats.lines.length;
  let count = 0;
  for (let i = heading.line + 1; i < end; i++) {
    const line = stats.lines[i]!;
    const isHeadingLine = stats.headings.some((h) => h.line === i);
    const isUnderline = /^\s{0,3}(=+|-+)\s*$/.test(line) && stats.headings.some((h) => h.line === i - 1);
    const isFence = /^\s{0,3}(```|~~~)/.test(line);
    if (line.trim() !== '' && !isHeadingLine && !isUnderline && !isFence) count += 1;
  }
  return { heading: heading.text, lines: count };
}

export interface DocCheck {
  name: string;
  /** The path checked (the first candidate that exists), or null when none does. */
  path: string | null;
  ok: boolean;
  /** "README.md: 4.1 KB, 52 prose lines, 12 headings, section "Quick start" 14 lines", or what is missing. */
  summary: string;
}

export async function checkDoc(doc: DocRequirement, cwd: string): Promise<DocCheck> {
  for (const candidate of doc.paths) {
    const path = resolve(cwd, candidate);
    let text: string;
    try {
      if (!(await stat(path)).isFile()) continue;
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    const stats = analyseMarkdown(text);
    const problems: string[] = [];
    if (stats.bytes < doc.min_bytes) problems.push(`${stats.bytes} bytes < ${doc.min_bytes}`);
    if (stats.proseLines < doc.min_prose_lines) problems.push(`${stats.proseLines} lines of prose < ${doc.min_prose_lines}`);
    if (stats.headings.length < doc.min_headings) problems.push(`${stats.headings.length} headings < ${doc.min_headings}`);
    let sectionText = '';
    if (doc.heading !== undefined) {
      const section = sectionLines(stats, new RegExp(doc.heading, 'i'));
      if (!section) problems.push(`no heading matching /${doc.heading}/i`);
      else {
        sectionText = `, section "${section.heading}" ${section.lines} lines`;
        if (section.lines < doc.min_section_lines) problems.push(`section "${section.heading}" has ${section.lines} lines < ${doc.min_section_lines}`);
      }
    }
    const summary = problems.length
      ? `${candidate}: ${problems.join(', ')}`
      : `${candidate}: ${stats.bytes} bytes, ${stats.proseLines} prose lines, ${stats.headings.length} headings${sectionText}`;
    return { name: doc.name, path: candidate, ok: problems.length === 0, summary };
  }
  return { name: doc.name, path: null, ok: false, summary: `${doc.name}: none of ${doc.paths.join(', ')} exists` };
}

const docsFailing: MetricDef = {
  name: 'docs.failing',
  unit: 'count',
  label: () => 'required documents missing or trivial',
  required: ['docs'],
  optional: [],
  baseline: false,
  kinds: [],
  async measure(filter, ctx) {
    const docs = filter.docs ?? [];
    const checks = await Promise.all(docs.map((d) => checkDoc(d, ctx.cwd)));
    const failing = checks.filter((c) => !c.ok);
    const at = ctx.now.toISOString();
    const sources: MetricSource[] = checks.filter((c) => c.path !== null).map((c) => ({ kind: 'live', path: resolve(ctx.cwd, c.path!), run_id: null, finished_at: at }));
    return {
      status: 'measured',
      value: failing.length,
      description: `${docs.length} documents checked at evaluation time: ${checks.map((c) => c.summary).join('; ')}`,
      sources,
      ...(failing.length ? { detail: failing.map((c) => c.summary).join('; ') } : {}),
    };
  },
};

export const DOCS_METRICS: readonly MetricDef[] = [docsFailing];
