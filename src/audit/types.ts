import type { Finding } from '../core/findings.js';

/**
 * The shapes the four audit steps share with the runner (audit/runner.ts) and the cli.
 * Every step is a core: plain options in, plain result out, progress as events, no process.*.
 */

export type AuditStepName = 'sbom' | 'vulns' | 'api' | 'config';

export type AuditEvent =
  | { type: 'step'; step: AuditStepName; phase: 'start' | 'done'; message?: string }
  | { type: 'progress'; step: AuditStepName; message: string }
  | { type: 'warning'; step: AuditStepName; message: string };

/** What every step core takes besides its own options. */
export interface StepContext {
  /** Keys finding fingerprints (core/fingerprint-key.ts); stable per project. */
  fingerprintKey: Uint8Array;
  signal?: AbortSignal;
  onEvent?: (event: AuditEvent) => void;
}

/** A package an SBOM lists: what vulnerability matching needs to know about it. */
export interface PackageRef {
  /** Package URL, e.g. "pkg:npm/%40scope/name@1.2.3", "pkg:pypi/requests@2.31.0". */
  purl: string;
  /** OSV ecosystem name. */
  ecosystem: 'npm' | 'PyPI';
  /** Ecosystem name as the ecosystem spells it ("@scope/name"; PyPI: PEP 503-normalised). */
  name: string;
  version: string;
  /** Relative path of the lock or manifest file naming it (several when installed from several). */
  manifests: string[];
  /** How it is used: required (runtime), optional, dev. */
  scope?: 'required' | 'optional' | 'dev';
}

/** The result of `audit --sbom` (building from lockfiles) or of reading an SBOM file. */
export interface SbomResult {
  /** The CycloneDX JSON document, serialised and already validated (absent when read from a file). */
  bomJson?: string;
  /** CycloneDX version: what was built (1.5, 1.6), or what a read SBOM declares (1.2 .. 1.7). */
  spec: string;
  /** Lock/manifest files used, relative to the directory, sorted. */
  manifests: string[];
  components: PackageRef[];
  /** E.g. an unpinned requirements line (category "dependency"). */
  findings: Finding[];
  summary: {
    components: number;
    by_ecosystem: Record<string, number>;
    dependencies: number;
    manifests: string[];
    /** Things worth saying that are not findings: "node_modules absent: no licenses", ... */
    notes: string[];
  };
}

/** The result of `audit --vulns`. */
export interface VulnsResult {
  findings: Finding[];
  summary: {
    database: string;
    /** Advisories read (all ecosystems), of which withdrawn (ignored). */
    advisories: number;
    withdrawn: number;
    components: number;
    /** Components whose version their ecosystem cannot parse: never matched (also a warning event). */
    invalid_versions?: number;
    vulnerable_components: number;
    /** Distinct vulnerabilities after alias grouping. */
    vulnerabilities: number;
    duration_ms: number;
  };
}

/** One API probe's outcome: each failed probe is also one finding (or more, one per weakness). */
export interface ProbeOutcome {
  id: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why skipped, or a one-line what was seen. */
  note?: string;
}

/** The result of `audit --api`. */
export interface ApiProbeResult {
  findings: Finding[];
  /** True when the run was aborted (signal): the findings are those of the probes that ran. */
  partial?: boolean;
  summary: {
    url: string;
    requests: number;
    probes: ProbeOutcome[];
  };
}

/** The result of `audit --config`. */
export interface ConfigAuditResult {
  findings: Finding[];
  summary: {
    file: string;
    format: 'json' | 'yaml' | 'env';
    environment?: string;
    checks: number;
  };
}

/** How one step went, as audit.json records it. A step that did not run is never "clean". */
export interface StepRecord {
  step: AuditStepName;
  status: 'completed' | 'not_run' | 'error' | 'interrupted';
  /** Why not run / what went wrong, in one line. */
  reason?: string;
  findings: number;
  duration_ms: number;
  summary?: unknown;
}
