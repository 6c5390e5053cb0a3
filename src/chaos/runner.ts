import type { GovernanceClient } from '../client/governance-client.js';
import { UsageError } from '../core/errors.js';
import { buildReport, type RunStatus } from '../core/report.js';
import { provisionKeys, type ProvisionedKeys } from '../load/keys.js';
import { runProbe, type ProbeLink } from './run-probe.js';
import { PROBE_NAMES, type ChaosEvent, type ChaosReport, type ChaosReportData, type ChaosTarget, type Probe, type ProbeJournal, type ProbeName, type ProbeOptions } from './types.js';

export interface ChaosRunOptions {
  runId: string;
  target: ChaosTarget;
  /** The probes asked for with --probe; undefined: every probe that applies to the target. */
  probes?: ProbeName[];
  probeOptions: Omit<ProbeOptions, 'signal'>;
  /** Decisions per second of the background traffic. */
  trafficRate: number;
  /** A /v1/check slower than this fails a sample (default 1000 ms). */
  latencyBudgetMs?: number;
  /** How long each probe's steady state may take to hold before its fault (default: at least 10 s). */
  steadyStateTimeoutMs?: number;
  /** A client for a URL (the target's, or the network probe's proxy), bound to `signal` or not (rollbacks, accounting). */
  clientFor(url: string, bound: boolean): Promise<GovernanceClient>;
  /** TLS settings of the lean connections of traffic and samples. */
  tls?: { rejectUnauthorized?: boolean; ca?: string };
  /** The server's version, for the envelope. */
  version?: string;
  /** Probe implementations instead of the built-in ones (tests: a probe with a known fault). */
  probeImpls?: Partial<Record<ProbeName, Probe>>;
  /** Puts a proxy in front of the target for the network probe (default: probes/network.ts startNetworkLink). */
  startLink?: (target: ChaosTarget) => Promise<ProbeLink>;
  signal: AbortSignal;
  onEvent?: (event: ChaosEvent) => void;
}

const DEFAULT_LATENCY_BUDGET_MS = 1_000;

/**
 * A chaos run: the probes asked for (or all that apply to the target), one after another, each
 * an experiment with its own traffic and samples (run-probe.ts), under one user key provisioned
 * for the run and revoked at its end (also after Ctrl-C). The journal is the result: a probe that
 * fails, errs or is interrupted is data, never an exception. Throws only for what must stop the
 * run before it starts: a probe asked for that does not apply (UsageError), no admin key.
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosReport> {
  const startedAt = new Date();
  const { signal, target } = options;
  const emit = (event: ChaosEvent) => options.onEvent?.(event);
  const probeOptions: ProbeOptions = { ...options.probeOptions, signal };
  const plan = await selectProbes(target, options.probes, probeOptions, options.probeImpls);

  const journals: ProbeJournal[] = [];
  let keys: ProvisionedKeys | undefined;
  const startLink = options.startLink ?? (await networkLink());
  try {
    for (const { probe, skip } of plan) {
      if (signal.aborted) break;
      if (skip !== undefined) {
        journals.push(skipped(probe.name, skip, probeOptions.budgetMs));
        emit({ type: 'phase', probe: probe.name, phase: 'done', detail: `skipped: ${skip}` });
        continue;
      }
      if (!target.adminKey) {
        throw new UsageError('govctl chaos creates a user key for its traffic and samples, and has no admin key', {
          hint: 'set GOVCTL_ADMIN_KEY (or a context with one) for this server',
        });
      }
      try {
        keys ??= await provisionKeys(await options.clientFor(target.url, true), { count: 1, runId: `chaos-${options.runId}`, signal });
      } catch (err) {
        // Ctrl-C while the key was being made: the partial journal is still the result.
        if (signal.aborted) break;
        throw err;
      }
      journals.push(
        await runProbe({
          probe,
          target,
          options: probeOptions,
          token: keys.tokens[0]!,
          keyIds: keys.keyIds,
          trafficRate: options.trafficRate,
          latencyBudgetMs: options.latencyBudgetMs ?? DEFAULT_LATENCY_BUDGET_MS,
          clientFor: options.clientFor,
          ...(options.steadyStateTimeoutMs !== undefined ? { steadyStateTimeoutMs: options.steadyStateTimeoutMs } : {}),
          ...(options.tls ? { tls: options.tls } : {}),
          ...(startLink ? { startLink } : {}),
          emit,
        }),
      );
    }
  } finally {
    if (keys) {
      const outcome = await keys.revoke(await options.clientFor(target.url, false));
      if (outcome.failed > 0) emit({ type: 'warning', message: `the run's API key could not be revoked (its name starts with govctl-load-chaos-${options.runId})` });
    }
  }

  const data: ChaosReportData = {
    options: {
      interval_ms: probeOptions.intervalMs,
      budget_s: probeOptions.budgetMs / 1000,
      healthy_samples: probeOptions.healthySamples,
      fault_duration_ms: probeOptions.faultDurationMs,
      probes: plan.map((p) => p.probe.name),
      traffic_rate: options.trafficRate,
    },
    probes: journals,
  };
  return buildReport(
    'chaos',
    { id: options.runId, started_at: startedAt.toISOString(), finished_at: new Date().toISOString(), status: runStatus(journals, signal.aborted) },
    data,
    { url: target.url, kind: target.kind === 'embedded' ? 'embedded' : 'remote', ...(options.version ? { version: options.version } : {}) },
  );
}

export interface PlannedProbe {
  probe: Probe;
  /** Why it does not apply to the target; undefined when it does. */
  skip: string | undefined;
}

/**
 * The probes a run will go through, in order, each with its skip reason: those asked for (all
 * when `asked` is undefined). A probe asked for by name that does not apply is a UsageError
 * (exit 2), raised before anything starts.
 */
export async function selectProbes(
  target: ChaosTarget,
  asked: ProbeName[] | undefined,
  probeOptions: ProbeOptions,
  replaced?: Partial<Record<ProbeName, Probe>>,
): Promise<PlannedProbe[]> {
  const impls = { ...(await builtInProbes(replaced)), ...replaced };
  const plan = (asked ?? [...PROBE_NAMES]).map((name) => {
    const probe = impls[name];
    if (!probe) throw new UsageError(`unknown probe "${name}": use ${PROBE_NAMES.join(', ')}`);
    return { probe, skip: probe.skipReason(target, probeOptions) };
  });
  const refused = asked ? plan.filter((p) => p.skip !== undefined) : [];
  if (refused.length > 0) {
    throw new UsageError(refused.map((p) => `the ${p.probe.name} probe does not apply: ${p.skip}`).join('; '), {
      hint: 'restart and disk need a server govctl manages (no --url, or --server-cmd); faults on a non-loopback URL need --allow-remote',
    });
  }
  return plan;
}

/** Interrupted beats failed beats error beats passed; skipped probes pass. */
export function runStatus(journals: ProbeJournal[], interrupted: boolean): RunStatus {
  if (interrupted || journals.some((j) => j.status === 'interrupted')) return 'interrupted';
  if (journals.some((j) => j.status === 'failed')) return 'failed';
  if (journals.some((j) => j.status === 'error')) return 'error';
  return 'passed';
}

/** Why a run did not pass, one line per probe reason ("restart: recovery took ..."). */
export function chaosFailureReasons(report: ChaosReport): string[] {
  return report.data.probes.filter((j) => j.status === 'failed' || j.status === 'error').flatMap((j) => j.reasons.map((r) => `${j.probe}: ${r}`));
}

function skipped(probe: ProbeName, reason: string, budgetMs: number): ProbeJournal {
  const none = { samples: 0, holding: 0, held: false };
  const now = Date.now();
  return {
    probe,
    status: 'skipped',
    reasons: [reason],
    fault: null,
    hypothesis: { before: none, during: none, after: none },
    detection_s: null,
    recovery_s: null,
    budget_s: budgetMs / 1000,
    records: { status: 'not_measured', reason: 'the probe was skipped' },
    records_acknowledged: null,
    records_lost: null,
    traffic: { sent: 0, acknowledged: 0, acknowledged_without_id: 0, errors: {}, statuses: {} },
    checks: [],
    samples: [],
    started_at: now,
    ended_at: now,
  };
}

/** The four built-in probes, loaded only when no test replaced them all. */
async function builtInProbes(replaced: Partial<Record<ProbeName, Probe>> | undefined): Promise<Partial<Record<ProbeName, Probe>>> {
  if (replaced && PROBE_NAMES.every((name) => replaced[name])) return {};
  const [restart, network, disk, memory] = await Promise.all([
    import('./probes/restart.js'),
    import('./probes/network.js'),
    import('./probes/disk.js'),
    import('./probes/memory.js'),
  ]);
  return { restart: restart.restartProbe, network: network.networkProbe, disk: disk.diskProbe, memory: memory.memoryProbe };
}

async function networkLink(): Promise<((target: ChaosTarget) => Promise<ProbeLink>) | undefined> {
  const { startNetworkLink } = await import('./probes/network.js');
  return startNetworkLink;
}
