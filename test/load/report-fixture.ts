import { buildReport } from '../../src/core/report.js';
import { LoadRecorder } from '../../src/load/recorder.js';
import type { ErrorClass, LoadReport, LoadReportData, RequestOutcome, ThresholdSpec } from '../../src/load/types.js';

/** A seeded generator (mulberry32): tests stay deterministic. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ENDPOINTS = ['check_allowed', 'check_blocked', 'evaluate', 'health'];

export function outcome(partial: Partial<RequestOutcome> & { at: number }): RequestOutcome {
  const latencyUs = partial.latencyUs ?? 1000;
  return {
    request: 0,
    status: 200,
    latencyUs,
    serviceUs: partial.serviceUs ?? latencyUs,
    throttled: false,
    ...partial,
  };
}

/** Synthetic outcomes between `from` and `to` (wall ms): a mix of endpoints, statuses and latencies. */
export function syntheticOutcomes(seed: number, count: number, from: number, to: number, options: { errorRate?: number; slowMs?: number } = {}): RequestOutcome[] {
  const random = seeded(seed);
  const out: RequestOutcome[] = [];
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(((to - from) * i) / count);
    const request = Math.floor(random() * ENDPOINTS.length);
    const roll = random();
    const latencyUs = Math.round(200 + random() ** 3 * (options.slowMs ?? 50) * 1000);
    const serviceUs = Math.round(latencyUs * (0.5 + random() / 2));
    let status = 200;
    let error: ErrorClass | undefined;
    let throttled = false;
    let retryAfter: boolean | undefined;
    if (roll < (options.errorRate ?? 0.02)) {
      status = 503;
      error = 'server_error';
    } else if (roll < (options.errorRate ?? 0.02) + 0.01) {
      status = 0;
      error = 'timeout';
    } else if (roll < (options.errorRate ?? 0.02) + 0.05) {
      status = 429;
      throttled = true;
      retryAfter = random() < 0.9;
    }
    out.push({ request, status, latencyUs, serviceUs, throttled, at, ...(error ? { error } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }
  return out;
}

export interface FixtureOptions {
  profile?: string;
  scenario?: string;
  thresholds?: ThresholdSpec;
  analyses?: LoadReportData['profile']['analyses'];
  startedAt: number;
  endedAt: number;
  outcomes: readonly RequestOutcome[];
  /** [wall ms, level, label] per stage. */
  stages?: Array<[number, number, string]>;
  dropped?: number[];
}

/** Runs outcomes through a real recorder and wraps the result as load report data. */
export function fixtureData(o: FixtureOptions): LoadReportData {
  const recorder = new LoadRecorder({ requests: ENDPOINTS, startedAt: o.startedAt, levelAt: () => 10 });
  const stages = [...(o.stages ?? [])];
  for (const out of o.outcomes) {
    while (stages.length > 0 && stages[0]![0] <= out.at) {
      const [at, level, label] = stages.shift()!;
      recorder.beginStage((o.stages?.length ?? 0) - stages.length - 1, label, level, at);
    }
    recorder.record(out);
  }
  while (stages.length > 0 && stages[0]![0] <= o.endedAt) {
    const [at, level, label] = stages.shift()!;
    recorder.beginStage((o.stages?.length ?? 0) - stages.length - 1, label, level, at);
  }
  for (const at of o.dropped ?? []) recorder.dropped(at, 1);
  const recorded = recorder.finish(o.endedAt);
  return {
    profile: {
      name: o.profile ?? 'stress',
      source: 'profiles/stress.json',
      model: 'closed',
      start: 0,
      stages: [],
      warmup_ms: 0,
      max_vus: 10,
      keys: 1,
      thresholds: o.thresholds ?? {},
      analyses: o.analyses ?? [],
      timeout_ms: 5000,
    },
    scenario: { name: o.scenario ?? 'governance-mix', source: 'scenarios/governance-mix.json', requests: ENDPOINTS.map((name) => ({ name, method: 'POST', path: `/${name}`, weight: 1 })) },
    options: { seed: 1, segment: null, workers: 1, tags: {} },
    keys: { count: 2, source: 'provisioned', revoked: true },
    window: { started_at: o.startedAt, ended_at: o.endedAt, warmup_ms: 0 },
    ...recorded,
    stages: recorded.stages.map((s) => ({ ...s, broken: false, reasons: [] })),
    breaking_point: null,
    max_sustained_throughput_rps: null,
    drift: null,
    memory: null,
    throttling: null,
    resources: { client: [], target: { status: 'not_measured', reason: 'remote target' }, metrics: { status: 'not_measured', reason: 'no /metrics' } },
    audit: { status: 'measured', acknowledged: 10, logged: 10, lost: 0 },
    generator: { event_loop_lag_p99_ms: 1, event_loop_lag_max_ms: 2, late_sends: 0, client_cpu_pct_max: 50, bottleneck: false, reasons: [] },
    thresholds: [],
    baseline: null,
    findings: [],
  };
}

export function fixtureReport(data: LoadReportData, id: string, status: LoadReport['run']['status'] = 'passed'): LoadReport {
  const run = { id, started_at: new Date(data.window.started_at).toISOString(), finished_at: new Date(data.window.ended_at).toISOString(), status };
  return buildReport('load', run, data, { url: 'http://127.0.0.1:1', kind: 'remote' });
}
