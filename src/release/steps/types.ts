import type { GateFile } from '../../gate/types.js';
import type { ReleaseReportData, ReleaseStepResult } from '../release-report.js';

export interface ReleaseTarget {
  url: string;
  kind: 'embedded' | 'remote';
  /** Given to the children that talk to the target in GOVCTL_ADMIN_KEY (never on argv). */
  adminKey?: string;
  version?: string;
}

export type ReleaseEvent =
  | { type: 'step-start'; index: number; total: number; name: string; title: string }
  | { type: 'step-end'; index: number; total: number; name: string; status: ReleaseStepResult['status']; reason?: string; duration_ms: number }
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string };

export interface ReleasePipelineOptions {
  /** The project: scanned, audited, bootstrapped; the children's working directory. */
  cwd: string;
  /** reports/release-<version>: must exist and be empty. */
  releaseDir: string;
  version: string;
  target: ReleaseTarget;
  quick: boolean;
  /** --duration of each load profile (--quick shortens them); undefined: the profile's own. */
  loadDurations: { normal?: string; burst?: string };
  osvDb?: string;
  config?: string;
  allowRemote?: boolean;
  /** A coverage summary (json-summary or lcov) to copy in; checked by the caller. */
  coverage?: { file: string; given: boolean };
  skipBootstrap: boolean;
  bootstrapTimeoutMs?: number;
  gates: GateFile;
  /** A warned gate fails too (gate.json's status, junit.xml). */
  strict?: boolean;
  /** A private key file (checked by the caller before anything runs). */
  signKey?: string;
  /** Settings of the target's client, passed to the children and the observability probe. */
  client: { timeoutMs: number; caCert?: string; insecure: boolean };
  child: {
    node: string;
    govctlBin: string;
    env: NodeJS.ProcessEnv;
    /** Global flags for every child (--timeout, --ca-cert, --insecure). */
    globalArgs: string[];
  };
  signal?: AbortSignal;
  onEvent?: (event: ReleaseEvent) => void;
}

export interface PipelineContext {
  options: ReleasePipelineOptions;
  releaseDir: string;
  signal?: AbortSignal;
  /** Figures the in-process steps record for release.json. */
  data: Partial<Pick<ReleaseReportData, 'bootstrap_s' | 'bootstrap_reason' | 'bootstrap_steps' | 'observability' | 'coverage'>>;
  emit: (event: ReleaseEvent) => void;
}

export interface StepDef {
  name: string;
  title: string;
  run: (ctx: PipelineContext) => Promise<Omit<ReleaseStepResult, 'name' | 'duration_ms'>>;
}
