import type { Severity } from '../core/findings.js';

/**
 * What a scanning engine reports for one file's text. Engines are pure (text in, matches out)
 * and know nothing of files, suppression, baselines or output: the scan orchestrator adds
 * those. Lines and columns are 1-based; columns count UTF-16 code units from the line start.
 */
export interface RawMatch {
  rule: string;
  title: string;
  severity: Severity;
  /** "secret" or "dangerous-code". */
  category: string;
  line: number;
  column: number;
  /**
   * For secrets: the raw secret value (never printed: the orchestrator redacts it and uses it
   * for the fingerprint). For patterns: the matched code snippet (safe to show).
   */
  value: string;
  remediation: string;
  cwe?: string;
}

/** A scanning engine over one file's text; `path` is relative, for path-based allowlists. */
export interface Engine {
  scan(text: string, path: string): RawMatch[];
}
