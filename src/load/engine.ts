import type { GovernanceClient } from '../client/governance-client.js';
import { UsageError } from '../core/errors.js';
import { buildReport, type ReportTarget, type RunStatus } from '../core/report.js';
import type { ManagedServer } from '../target/managed-server.js';
import { analyzeDrift } from './analysis/drift.js';
import { analyzeMemory } from './analysis/memory-trend.js';
import { analyzeSteps } from './analysis/steps.js';
import { auditAccounting, countLoggedDecisions } from './audit-accounting.js';
import { compareToBaseline } from './baseline-compare.js';
import { drive, type DriveResult, type DriveTick } from './drive.js';
import { loadFindings } from './findings.js';
import { startGeneratorHealth } from './generator-health.js';
import { provisionKeys, type ProvisionedKeys } from './keys.js';
import { startResourceSampler } from './resources.js';
import { describeThresholdResult, evaluateThresholds, p99LimitFrom } from './thresholds.js';
import type { LoadReport, LoadReportData, ResolvedProfile, ResolvedScenario } from './types.js';
import { driveInWorkers } from './workers.js';

export type LoadEvent =
  | { type: 'phase'; phase: 'keys' | 'waiting' | 'running' | 'accounting' | 'revoking'; detail?: string }
  | ({ type: 'progress' } & DriveTick)
  | { type: 'warning'; message: string };

export interface LoadTarget {
  url: string;
  kind: 'embedded' | 'remote';
  /** The managed process when govctl started it (resource samples come from /proc). */
  server?: ManagedServer;
  version?: string;
}

export interface LoadEngineOptions {
  runId: string;
  profile: ResolvedProfile;
  scenario: ResolvedScenario;
  target: LoadTarget;
  /** For /health, /metrics and, with an admin key, keys and the usage log. */
  client: GovernanceClient;
  /** The client carries an admin key. */
  admin: boolean;
  /**
   * The same server's client without the run's abort signal: the keys the run created are
   * revoked through it after Ctrl-C, when `client`'s requests are already cancelled.
   */
  cleanupClient?: GovernanceClient;
  /** Existing API keys (--api-key, GOVCTL_API_KEYS) instead of provisioned ones. */
  apiKeys?: { tokens: string[]; keyIds: string[] };
  seed: number;
  segment: { index: number; count: number } | null;
  workers: number;
  tags: Record<string, string>;
  /** Wall-clock ms to start at (shards of one run start together). */
  startAt?: number;
  baseline?: { data: LoadReportData; source: string };
  rejectUnauthorized?: boolean;
  ca?: string;
  signal: AbortSignal;
  onEvent?: (event: LoadEvent) => void;
}

/**
 * One load run, start to end: API keys, resource sampling, the scheduled load, then the
 * questions an operator asks (thresholds, breaking point, drift, memory, throttling, audit
 * accounting, baseline) answered from what was measured, never from defaults.
 */
export async function runLoadEngine(options: LoadEngineOptions): Promise<LoadReport> {
  const { profile, scenario, client, signal } = options;
  const emit = (event: LoadEvent) => options.onEvent?.(event);
  const startedAt = new Date();
  const needsKeys = scenario.requests.some((r) => r.auth === 'api_key');

  let keys: ProvisionedKeys | undefined;
  let tokens: string[] = [];
  let keyIds: string[] = [];
  let keySource: LoadReportData['keys']['source'] = 'none';
  if (needsKeys && options.apiKeys) {
    ({ tokens, keyIds } = options.apiKeys);
    keySource = 'provided';
  } else if (needsKeys) {
    if (!options.admin) {
      throw new UsageError(`scenario "${scenario.name}" sends requests with API keys, and govctl has no admin key to create them`, {
        hint: 'set GOVCTL_ADMIN_KEY (or a context with one), or pass existing keys with --api-key / GOVCTL_API_KEYS',
      });
    }
    emit({ type: 'phase', phase: 'keys', detail: `creating ${profile.keys} API key(s)` });
    keys = await provisionKeys(client, { count: profile.keys, runId: options.runId, signal });
    ({ tokens, keyIds } = keys);
    keySource = 'provisioned';
  }

  let revoked: boolean | null = null;
  const sampler = startResourceSampler({
    ...(options.target.server ? { server: options.target.server } : {}),
    scrapeMetrics: () => client.metrics(),
    signal,
  });
  const generator = startGeneratorHealth();
  let result: DriveResult;
  try {
    if (options.startAt !== undefined && options.startAt > Date.now()) {
      emit({ type: 'phase', phase: 'waiting', detail: `starting at ${new Date(options.startAt).toISOString()}` });
      await sleepUntil(options.startAt, signal);
    }
    // The first /metrics reading is taken before any request, so counter deltas are the run's own.
    await sampler.ready;
    emit({ type: 'phase', phase: 'running' });
    const driveOptions = {
      profile,
      scenario,
      url: new URL(options.target.url),
      tokens,
      seed: options.seed,
      signal,
      onTick: (tick: DriveTick) => emit({ type: 'progress', ...tick }),
      onLateSend: (late: number) => generator.noteLateSend(late),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    };
    result = options.workers > 1 ? await driveInWorkers(driveOptions, options.workers) : await drive(driveOptions);
  } finally {
    if (keys) {
      emit({ type: 'phase', phase: 'revoking', detail: `revoking ${keyIds.length} API key(s)` });
      const outcome = await keys.revoke(options.cleanupClient);
      revoked = outcome.failed === 0;
      if (!revoked) emit({ type: 'warning', message: `${outcome.failed} of the run's API keys could not be revoked (names start with govctl-load-${options.runId})` });
    }
  }
  const resources = await sampler.stop();
  const clientCpuMax = Math.max(0, ...resources.client.map((s) => s.cpu_pct));
  const generatorHealth = generator.stop({ clientCpuMaxPct: clientCpuMax, sent: result.counters.sent });

  const analyses = new Set(profile.analyses);
  let healthyAfter: boolean | null = null;
  if (analyses.has('throttling') && !result.interrupted) {
    healthyAfter = await client.health().then(
      (health) => health.healthy,
      () => false,
    );
  }

  emit({ type: 'phase', phase: 'accounting' });
  const acknowledged = result.counters.acknowledged.reduce((a, b) => a + b, 0);
  const audited = scenario.requests.some((r) => r.audited);
  const audit: LoadReportData['audit'] = !audited
    ? { status: 'not_measured', reason: 'the scenario sends no audited decisions' }
    : keyIds.length === 0
      ? { status: 'not_measured', reason: 'no API key ids to match in the usage log' }
      : !options.admin
        ? { status: 'not_measured', reason: 'no admin key: the usage log cannot be read' }
        : result.interrupted
          ? { status: 'not_measured', reason: 'the run was interrupted' }
          : auditAccounting(
              acknowledged,
              await countLoggedDecisions(client, { keyIds, since: startedAt, until: new Date(), signal }),
            );

  const { recorded } = result;
  const steps = analyses.has('steps') ? analyzeSteps(recorded.stages, { p99LimitMs: p99LimitFrom(profile.thresholds) }) : undefined;
  const { scenario: _scenarioName, embedded_serve_args: _serveArgs, ...profileData } = profile;
  const data: LoadReportData = {
    profile: profileData,
    scenario: {
      name: scenario.name,
      source: scenario.source,
      requests: scenario.requests.map((r) => ({ name: r.name, method: r.method, path: r.path, weight: r.weight })),
    },
    options: { seed: options.seed, segment: options.segment, workers: options.workers, tags: options.tags },
    keys: { count: needsKeys ? tokens.length : 0, source: keySource, revoked },
    window: result.window,
    totals: recorded.totals,
    endpoints: recorded.endpoints,
    status_classes: recorded.status_classes,
    intervals: recorded.intervals,
    stages: steps?.stages ?? recorded.stages.map((s) => ({ ...s, broken: false, reasons: [] })),
    breaking_point: steps?.breaking_point ?? null,
    max_sustained_throughput_rps: steps?.max_sustained_throughput_rps ?? null,
    drift: analyses.has('drift') ? analyzeDrift(recorded.intervals, result.window) : null,
    memory: analyses.has('memory')
      ? resources.rssSource === null
        ? { status: 'not_measured', reason: 'no RSS source: the target is not managed by govctl and its /metrics has no process_resident_memory_bytes' }
        : analyzeMemory(resources.rss, resources.rssSource)
      : null,
    throttling: analyses.has('throttling')
      ? {
          throttled: recorded.totals.throttled,
          without_retry_after: recorded.totals.throttled_without_retry_after,
          server_errors: recorded.totals.error_classes.server_error,
          healthy_after: healthyAfter,
        }
      : null,
    resources: { client: resources.client, target: resources.target, metrics: resources.metrics },
    audit,
    generator: generatorHealth,
    thresholds: [],
    baseline: null,
    findings: [],
  };
  data.thresholds = evaluateThresholds(profile.thresholds, data);
  if (options.baseline) data.baseline = compareToBaseline(data, options.baseline.data, options.baseline.source);
  data.findings = loadFindings(data, options.target.url);

  const target: ReportTarget = { url: options.target.url, kind: options.target.kind, ...(options.target.version ? { version: options.target.version } : {}) };
  return buildReport(
    'load',
    { id: options.runId, started_at: startedAt.toISOString(), finished_at: new Date().toISOString(), status: statusOf(data, result.interrupted) },
    data,
    target,
  );
}

/** Why a finished run failed, one line each; empty when everything it checks held. */
export function failureReasons(data: LoadReportData): string[] {
  const reasons = data.thresholds.filter((t) => !t.passed).map((t) => `threshold ${describeThresholdResult(t)}`);
  if (data.baseline !== null && !data.baseline.passed) {
    for (const r of data.baseline.regressions) reasons.push(`regression against the baseline: ${r.metric} ${r.change} (limit ${r.limit})`);
  }
  if (data.audit.status === 'measured' && data.audit.lost > 0) reasons.push(`${data.audit.lost} acknowledged decisions are missing from the usage log`);
  const th = data.throttling;
  if (th !== null) {
    if (th.throttled === 0) reasons.push('the per-key rate limit never engaged');
    if (th.server_errors > 0) reasons.push(`${th.server_errors} server errors (5xx) under the burst`);
    if (th.without_retry_after > 0) reasons.push(`${th.without_retry_after} responses 429 without Retry-After`);
    if (th.healthy_after === false) reasons.push('the server was not healthy after the burst');
  }
  return reasons;
}

/** Passed only when everything the run checks held; interrupted runs are partial whatever they show. */
export function statusOf(data: LoadReportData, interrupted: boolean): RunStatus {
  if (interrupted) return 'interrupted';
  return failureReasons(data).length > 0 ? 'failed' : 'passed';
}

function sleepUntil(at: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, at - Date.now()));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
