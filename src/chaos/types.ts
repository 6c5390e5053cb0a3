/**
 * The shapes `govctl chaos` shares: the target under test, the steady-state samples, the
 * background traffic's record of acknowledged decisions, the probe interface every fault
 * implements, and the `govctl.chaos/v1` journal. Times are wall-clock ms (Date.now()) unless a
 * name says otherwise.
 */
import type { GovernanceClient } from '../client/governance-client.js';
import type { ReportEnvelope } from '../core/report.js';
import type { ManagedServer } from '../target/managed-server.js';

export type ProbeName = 'restart' | 'network' | 'disk' | 'memory';
export const PROBE_NAMES: readonly ProbeName[] = ['restart', 'network', 'disk', 'memory'];

export type MeasuredOr<T> = ({ status: 'measured' } & T) | { status: 'not_measured'; reason: string };

/** The server under test. */
export interface ChaosTarget {
  /** Where clients reach it (for the network probe: the proxy in front of it while it runs). */
  url: string;
  kind: 'embedded' | 'managed' | 'remote';
  adminKey?: string;
  /** Present when govctl started the server (embedded, or --server-cmd): kill, restart, sample, dataDir. */
  server?: ManagedServer;
  /** The data directory of a managed reference server (the disk probe fills its filesystem). */
  dataDir?: string;
}

/** One steady-state sample: is the service healthy, and does a decision succeed within budget? */
export interface Sample {
  t: number;
  phase: 'before' | 'during' | 'after';
  /** GET /health answered 200 with a health document. */
  healthy: boolean;
  health_status: number | null;
  /** A POST /v1/check answered 200 within the latency budget. */
  check_ok: boolean;
  check_status: number | null;
  check_latency_ms: number | null;
  /** Why the sample failed: "refused", "timeout", "503 audit log unavailable", ... */
  error?: string;
}

/** A sample holds the hypothesis when both halves hold. */
export function sampleHolds(sample: Sample): boolean {
  return sample.healthy && sample.check_ok;
}

export interface SamplerOptions {
  client: GovernanceClient;
  /** A user key for the /v1/check half of the hypothesis. */
  token: string;
  intervalMs: number;
  /** A check slower than this fails the sample. */
  latencyBudgetMs: number;
  /** Per-request timeout of a sample's requests (at most the interval, so samples never pile up). */
  timeoutMs: number;
  signal?: AbortSignal;
  onSample?: (sample: Sample) => void;
  /** TLS of the sample requests (https targets): verify certificates unless false; extra CA PEM. */
  rejectUnauthorized?: boolean;
  ca?: string;
}

/** Samples every interval from start() to stop(); the runner sets the phase. */
export interface Sampler {
  setPhase(phase: Sample['phase']): void;
  readonly samples: readonly Sample[];
  /** Resolves with the first sample taken after `since` that matches `predicate`, or undefined on timeout/abort. */
  waitFor(predicate: (s: Sample) => boolean, since: number, timeoutMs: number): Promise<Sample | undefined>;
  stop(): Promise<Sample[]>;
}

/** Recovery and detection, from the samples (see recovery.ts). */
export interface RecoveryResult {
  /** First failing sample after the fault was injected, minus the injection time; null when none failed. */
  detection_s: number | null;
  /** First sample of N consecutive holding ones after removal, minus the removal (a kill: minus the kill); null when never. */
  recovery_s: number | null;
  recovered: boolean;
}

/** What the background traffic saw: every decision the server acknowledged with a 200. */
export interface TrafficRecord {
  sent: number;
  acknowledged: number;
  /** decision_id of each acknowledged decision with its wall time (servers without ids: none). */
  decisions: Array<{ id: string; t: number }>;
  /** Acknowledged 200s that carried no decision_id (servers in the field). */
  acknowledged_without_id: number;
  errors: Record<string, number>;
  /** Status code counts. */
  statuses: Record<string, number>;
}

export interface BackgroundTraffic {
  /** A snapshot of what was acknowledged so far (a probe takes one at the kill). */
  snapshot(): TrafficRecord;
  stop(): Promise<TrafficRecord>;
}

/** A named pass/fail check a probe makes beyond recovery (e.g. "writes refused with 503 while full"). */
export interface ProbeCheck {
  name: string;
  passed: boolean;
  detail: string;
}

/** An injected fault; remove() is idempotent and is also the rollback (Ctrl-C, errors). */
export interface InjectedFault {
  kind: string;
  params: Record<string, unknown>;
  injected_at: number;
  /** A kill is over at once: recovery is measured from the injection, not from removal. */
  instantaneous: boolean;
  remove(): Promise<void>;
  /** Checks the probe makes once the fault is removed and the service recovered (or not). */
  checks?(): Promise<ProbeCheck[]>;
  /**
   * restart: what the traffic had acknowledged once the killed process was gone. The runner's
   * records accounting checks these decisions (not the whole run's) against the usage log.
   */
  acknowledged_before_kill?: TrafficRecord;
}

export interface ProbeOptions {
  intervalMs: number;
  budgetMs: number;
  /** Consecutive holding samples that make a recovery. */
  healthySamples: number;
  /** How long a lasting fault (network, disk, memory) stays before removal. */
  faultDurationMs: number;
  signal: AbortSignal;
  allowRemote: boolean;
  maxBallastBytes: number;
  keepFreeBytes: number;
  /** restart: SIGKILL (default) or SIGTERM. */
  signalName: 'SIGKILL' | 'SIGTERM';
  /** network: which toxic(s); see fault-proxy. */
  toxics: string[];
}

export interface ProbeContext {
  target: ChaosTarget;
  /** Bound to the run's abort signal. */
  client: GovernanceClient;
  /** Not bound to the signal: rollbacks and accounting after Ctrl-C go through it. */
  cleanupClient: GovernanceClient;
  options: ProbeOptions;
  traffic: BackgroundTraffic;
  sampler: Sampler;
  emit(event: ChaosEvent): void;
}

export interface Probe {
  name: ProbeName;
  /** Why the probe does not apply to this target, or undefined when it does. */
  skipReason(target: ChaosTarget, options: ProbeOptions): string | undefined;
  inject(ctx: ProbeContext): Promise<InjectedFault>;
}

export type ChaosEvent =
  | { type: 'phase'; probe: ProbeName; phase: 'before' | 'inject' | 'during' | 'remove' | 'after' | 'accounting' | 'done'; detail?: string }
  | { type: 'sample'; probe: ProbeName; sample: Sample; since_fault_s: number | null }
  | { type: 'warning'; message: string };

export type ProbeStatus = 'passed' | 'failed' | 'skipped' | 'error' | 'interrupted';

export interface HypothesisSummary {
  samples: number;
  holding: number;
  /** Every sample of the phase held (before), or the phase ended holding (after). */
  held: boolean;
}

export interface ProbeJournal {
  probe: ProbeName;
  status: ProbeStatus;
  /** Why it failed, was skipped or errored. */
  reasons: string[];
  fault: { kind: string; params: Record<string, unknown>; injected_at: number; removed_at: number | null } | null;
  hypothesis: { before: HypothesisSummary; during: HypothesisSummary; after: HypothesisSummary };
  detection_s: number | null;
  recovery_s: number | null;
  budget_s: number;
  /** Acknowledged decisions (before the kill for restart; during the probe otherwise) checked against the usage log. */
  records: MeasuredOr<{ acknowledged: number; lost: number; lost_ids: string[] }>;
  /** The same two figures flat, for gates and jq: null when not measured (`records.reason` says why), never 0. */
  records_acknowledged: number | null;
  records_lost: number | null;
  traffic: Omit<TrafficRecord, 'decisions'>;
  checks: ProbeCheck[];
  samples: Sample[];
  started_at: number;
  ended_at: number;
}

export interface ChaosReportData {
  options: { interval_ms: number; budget_s: number; healthy_samples: number; fault_duration_ms: number; probes: ProbeName[]; traffic_rate: number };
  probes: ProbeJournal[];
}

export type ChaosReport = ReportEnvelope<ChaosReportData>;
