import { dirname } from 'node:path';
import { filterByBaseline } from '../core/baseline.js';
import { InvalidInputError } from '../core/errors.js';
import { loadFingerprintKey } from '../core/fingerprint-key.js';
import { fingerprintOf, redact, severityRank, SEVERITIES, type FileLocation, type Finding, type Severity } from '../core/findings.js';
import { verdictOf, type FailOn, type Verdict } from '../core/verdict.js';
import { buildEngine, type EngineSpec, type FileScanResult, type ScanKind } from './file-scan.js';
import { scanFiles } from './pool.js';
import type { RawMatch } from './types.js';
import { walk, type SkippedFile } from './walker.js';

/** Progress and warnings, for the cli to show (a core never writes to the terminal). */
export type ScanEvent =
  | { type: 'walked'; files: number; bytes: number }
  | { type: 'progress'; done: number; total: number }
  /** A worker thread began on a batch of files (not emitted when scanning in this thread). */
  | { type: 'batch-started'; files: number }
  | { type: 'warning'; message: string };

export interface ScanOptions {
  kind: ScanKind;
  root: string;
  /** The loaded rule set (built-in, merged with a user file, minus disabled rules). */
  rules: unknown;
  /** Fingerprints of known findings not to report again. */
  baseline?: ReadonlySet<string>;
  gitignore?: boolean;
  /** Also scan every commit's added lines. */
  git?: boolean;
  maxFileBytes: number;
  /** Findings at or above this fail the verdict (default "high"). */
  failOn?: FailOn;
  workers?: number;
  /** Absolute directories never scanned (the report directory). */
  excludeDirs?: string[];
  /** Read `.govctlignore` at the root (gitignore syntax). Default true. */
  govctlignore?: boolean;
  /** More paths left out, gitignore syntax relative to the root (the cli's repeatable `--exclude`). */
  exclude?: string[];
  /** The fingerprint key; default: loaded for the project (GOVCTL_FINGERPRINT_KEY or .govctl/fingerprint-key). */
  fingerprintKey?: Uint8Array;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onEvent?: (event: ScanEvent) => void;
  /** @deprecated use onEvent's "progress". */
  onProgress?: (done: number, total: number) => void;
}

export interface ScanSummary {
  files_scanned: number;
  bytes_scanned: number;
  skipped: Record<'binary' | 'too_large' | 'unreadable' | 'symlink', number>;
  ignored_by_gitignore: number;
  /** Files and directories (a directory counts once) left out by .govctlignore or --exclude. */
  excluded: number;
  /** govctl report directories (and the --out directory) left out. */
  report_dirs_skipped: number;
  suppressed_inline: number;
  suppressed_by_baseline: number;
  commits_scanned?: number;
  /** With `git`: changed files in commits left out by .govctlignore or --exclude. */
  excluded_in_history?: number;
  duration_ms: number;
  findings_by_severity: Record<Severity, number>;
}

export interface ScanResult {
  kind: ScanKind;
  root: string;
  findings: Finding[];
  summary: ScanSummary;
  skipped_files: SkippedFile[];
  /** What `excluded` counts (directories end with "/"; the first 1000), and what excluded them. */
  excluded_paths: string[];
  exclude_sources: string[];
  /** True when Ctrl-C stopped the scan before it finished: the findings are those found so far. */
  partial: boolean;
  /** Pass or fail against failOn; the cli turns a failed verdict into exit 1. */
  verdict: Verdict;
}

/** Rules whose matched code may hold a credential: their evidence gets string literals redacted. */
const CREDENTIAL_RULE = /^hardcoded-password$|secret|credential|token|api[-_]?key/i;

function redactLiterals(snippet: string): string {
  return snippet.replace(/(["'`])([^"'`]*)\1/g, (_all, quote: string, body: string) => `${quote}${redact(body)}${quote}`);
}

function toFinding(kind: ScanKind, key: Uint8Array, result: FileScanResult, m: RawMatch): Omit<Finding, 'id'> {
  const isSecret = kind === 'secrets';
  const normalised = m.value.replace(/\s+/g, ' ').trim();
  return {
    rule: m.rule,
    severity: m.severity,
    category: m.category,
    title: m.title,
    location: { file: result.path, line: m.line, column: m.column, ...(result.commit ? { commit: result.commit } : {}) },
    evidence: isSecret ? redact(m.value) : CREDENTIAL_RULE.test(m.rule) ? redactLiterals(normalised) : normalised.slice(0, 120),
    // Line numbers stay out, so a finding keeps its fingerprint when code moves; keyed (see findings.ts).
    fingerprint: fingerprintOf(key, kind, m.rule, result.path, isSecret ? m.value : normalised),
    remediation: m.remediation,
    ...(m.cwe ? { cwe: m.cwe } : {}),
  };
}

function compareFindings(a: Omit<Finding, 'id'>, b: Omit<Finding, 'id'>): number {
  const la = a.location as FileLocation;
  const lb = b.location as FileLocation;
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    la.file.localeCompare(lb.file) ||
    la.line - lb.line ||
    la.column - lb.column ||
    a.rule.localeCompare(b.rule)
  );
}

/** Scans a tree (and, with `git`, its history) and returns findings, an honest summary and a verdict. */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  if (!Number.isFinite(options.maxFileBytes) || options.maxFileBytes <= 0) {
    throw new InvalidInputError(`invalid maximum file size ${options.maxFileBytes}: it must be at least 1 byte (a scan that reads nothing cannot pass)`);
  }
  const emit = options.onEvent ?? (() => {});
  const spec: EngineSpec = { kind: options.kind, rules: options.rules };
  const walked = await walk(options.root, {
    maxFileBytes: options.maxFileBytes,
    ...(options.gitignore !== undefined ? { gitignore: options.gitignore } : {}),
    ...(options.excludeDirs ? { excludeDirs: options.excludeDirs } : {}),
    ...(options.govctlignore !== undefined ? { govctlignore: options.govctlignore } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let key = options.fingerprintKey;
  if (key === undefined) {
    const loaded = await loadFingerprintKey(walked.rootIsFile ? dirname(options.root) : options.root, options.env ?? {});
    if (loaded.source === 'ephemeral') emit({ type: 'warning', message: `${loaded.reason}: fingerprints of this run are not stable (baselines will not match); set GOVCTL_FINGERPRINT_KEY` });
    key = loaded.key;
  }
  emit({ type: 'walked', files: walked.files.length, bytes: walked.files.reduce((n, f) => n + f.size, 0) });
  const results = await scanFiles(spec, walked.files, {
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onBatchStarted: (files) => emit({ type: 'batch-started', files }),
    onProgress: (done, total) => {
      emit({ type: 'progress', done, total });
      options.onProgress?.(done, total);
    },
  });

  let history: FileScanResult[] = [];
  if (options.git && !options.signal?.aborted) {
    const { scanGitHistory } = await import('./git-history.js');
    history = await scanGitHistory(options.root, await buildEngine(spec), options.signal);
  }
  // History paths are relative to the repository: the same exclusions hold when the root is its top.
  const commitsScanned = new Set(history.map((h) => h.commit)).size;
  const historyKept = history.filter((h) => !walked.isExcluded(h.path));
  const excludedInHistory = history.length - historyKept.length;
  history = historyKept;

  const skipped_files: SkippedFile[] = [...walked.skipped];
  const summary: ScanSummary = {
    files_scanned: 0,
    bytes_scanned: 0,
    skipped: { binary: 0, too_large: 0, unreadable: 0, symlink: 0 },
    ignored_by_gitignore: walked.ignored,
    excluded: walked.excluded,
    report_dirs_skipped: walked.reportDirs,
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
      const finding = toFinding(options.kind, key, result, m);
      seen.add(finding.fingerprint);
      candidates.push(finding);
    }
  }
  if (options.git) {
    summary.commits_scanned = commitsScanned;
    summary.excluded_in_history = excludedInHistory;
    // git log lists newest first: walking it backwards, the first sighting is the introducing commit.
    for (const result of [...history].reverse()) {
      summary.suppressed_inline += result.suppressed;
      for (const m of result.matches) {
        const finding = toFinding(options.kind, key, result, m);
        if (seen.has(finding.fingerprint)) continue;
        seen.add(finding.fingerprint);
        candidates.push(finding);
      }
    }
  }
  for (const skip of skipped_files) {
    const reason = skip.reason === 'too-large' ? 'too_large' : skip.reason;
    summary.skipped[reason] += 1;
  }

  const { kept, suppressed } = filterByBaseline(candidates, options.baseline);
  summary.suppressed_by_baseline = suppressed;
  kept.sort(compareFindings);
  const findings: Finding[] = kept.map((f, i) => ({ id: `${options.kind === 'secrets' ? 'S' : 'P'}${i + 1}`, ...f }));
  const verdict = verdictOf(findings, options.failOn ?? 'high');
  summary.findings_by_severity = { ...verdict.counts };
  summary.duration_ms = Math.round(performance.now() - started);
  const partial = options.signal?.aborted === true;
  // An interrupted scan has not looked at everything: it cannot pass.
  if (partial) verdict.passed = false;
  return {
    kind: options.kind,
    root: options.root,
    findings,
    summary,
    skipped_files,
    excluded_paths: walked.excludedPaths,
    exclude_sources: walked.excludeSources,
    partial,
    verdict,
  };
}
