import { fingerprintOf, redact, severityRank, SEVERITIES, type Finding, type Severity } from '../core/findings.js';
import { buildEngine, type EngineSpec, type FileScanResult, type ScanKind } from './file-scan.js';
import { scanFiles } from './pool.js';
import type { RawMatch } from './types.js';
import { walk, type SkippedFile } from './walker.js';

export interface ScanOptions {
  kind: ScanKind;
  root: string;
  /** The loaded rule set (built-in, merged with a user file, minus disabled rules). */
  rules: unknown;
  /** Fingerprints of known findings not to report again. */
  baseline?: Set<string>;
  gitignore?: boolean;
  /** Also scan every commit's added lines. */
  git?: boolean;
  maxFileBytes: number;
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ScanSummary {
  files_scanned: number;
  bytes_scanned: number;
  skipped: Record<'binary' | 'too_large' | 'unreadable' | 'symlink', number>;
  ignored_by_gitignore: number;
  suppressed_inline: number;
  suppressed_by_baseline: number;
  commits_scanned?: number;
  duration_ms: number;
  findings_by_severity: Record<Severity, number>;
}

export interface ScanResult {
  kind: ScanKind;
  root: string;
  findings: Finding[];
  summary: ScanSummary;
  skipped_files: SkippedFile[];
  /** True when Ctrl-C stopped the scan before it finished. */
  partial: boolean;
}

/** Rules whose matched code may hold a credential: their evidence gets string literals redacted. */
const CREDENTIAL_RULE = /^hardcoded-password$|secret|credential|token|api[-_]?key/i;

function redactLiterals(snippet: string): string {
  return snippet.replace(/(["'`])([^"'`]*)\1/g, (_all, quote: string, body: string) => `${quote}${redact(body)}${quote}`);
}

function toFinding(kind: ScanKind, result: FileScanResult, m: RawMatch): Omit<Finding, 'id'> {
  const isSecret = kind === 'secrets';
  const normalised = m.value.replace(/\s+/g, ' ').trim();
  return {
    rule: m.rule,
    severity: m.severity,
    category: m.category,
    title: m.title,
    location: { file: result.path, line: m.line, column: m.column, ...(result.commit ? { commit: result.commit } : {}) },
    evidence: isSecret ? redact(m.value) : CREDENTIAL_RULE.test(m.rule) ? redactLiterals(normalised) : normalised.slice(0, 120),
    // Line numbers stay out, so a finding keeps its fingerprint when code moves.
    fingerprint: fingerprintOf(kind, m.rule, result.path, isSecret ? m.value : normalised),
    remediation: m.remediation,
    ...(m.cwe ? { cwe: m.cwe } : {}),
  };
}

function compareFindings(a: Omit<Finding, 'id'>, b: Omit<Finding, 'id'>): number {
  const la = a.location as { file: string; line: number; column: number };
  const lb = b.location as { file: string; line: number; column: number };
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    la.file.localeCompare(lb.file) ||
    la.line - lb.line ||
    la.column - lb.column ||
    a.rule.localeCompare(b.rule)
  );
}

/** Scans a tree (and, with `git`, its history) and returns findings and an honest summary. */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const spec: EngineSpec = { kind: options.kind, rules: options.rules };
  const walked = await walk(options.root, {
    maxFileBytes: options.maxFileBytes,
    ...(options.gitignore !== undefined ? { gitignore: options.gitignore } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const results = await scanFiles(spec, walked.files, {
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });

  let history: FileScanResult[] = [];
  if (options.git && !options.signal?.aborted) {
    const { scanGitHistory } = await import('./git-history.js');
    history = await scanGitHistory(options.root, await buildEngine(spec), options.signal);
  }

  const skipped_files: SkippedFile[] = [...walked.skipped];
  const summary: ScanSummary = {
    files_scanned: 0,
    bytes_scanned: 0,
    skipped: { binary: 0, too_large: 0, unreadable: 0, symlink: 0 },
    ignored_by_gitignore: walked.ignored,
    suppressed_inline: 0,
    suppressed_by_baseline: 0,
    duration_ms: 0,
    findings_by_severity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
  };
  const candidates: Array<Omit<Finding, 'id'>> = [];
  const seen = new Set<string>();
  for (const result of results) {
    if (result.skipped) {
      skipped_files.push({ path: result.path, reason: result.skipped });
      continue;
    }
    summary.files_scanned += 1;
    summary.bytes_scanned += result.bytes;
    summary.suppressed_inline += result.suppressed;
    for (const m of result.matches) {
      const finding = toFinding(options.kind, result, m);
      seen.add(finding.fingerprint);
      candidates.push(finding);
    }
  }
  if (options.git) {
    summary.commits_scanned = new Set(history.map((h) => h.commit)).size;
    // git log lists newest first: walking it backwards, the first sighting is the introducing commit.
    for (const result of [...history].reverse()) {
      summary.suppressed_inline += result.suppressed;
      for (const m of result.matches) {
        const finding = toFinding(options.kind, result, m);
        if (seen.has(finding.fingerprint)) continue;
        seen.add(finding.fingerprint);
        candidates.push(finding);
      }
    }
  }
  for (const skip of skipped_files) {
    const key = skip.reason === 'too-large' ? 'too_large' : skip.reason;
    summary.skipped[key] += 1;
  }

  const kept = candidates.filter((f) => {
    if (options.baseline?.has(f.fingerprint)) {
      summary.suppressed_by_baseline += 1;
      return false;
    }
    return true;
  });
  kept.sort(compareFindings);
  const findings: Finding[] = kept.map((f, i) => ({ id: `${options.kind === 'secrets' ? 'S' : 'P'}${i + 1}`, ...f }));
  for (const f of findings) summary.findings_by_severity[f.severity] += 1;
  summary.duration_ms = Math.round(performance.now() - started);
  return { kind: options.kind, root: options.root, findings, summary, skipped_files, partial: options.signal?.aborted === true };
}
