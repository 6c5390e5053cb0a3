import type { GovernanceClient } from '../client/governance-client.js';
import { messageOf } from '../core/errors.js';
import { computeRecovery, summarizeHypothesis } from './recovery.js';
import { checkAcknowledgedRecords } from './records.js';
import { startSampler } from './sampler.js';
import { bounded, pause, SteadyStateWatch } from './steady-state.js';
import { startTraffic } from './traffic.js';
import type {
  BackgroundTraffic,
  ChaosEvent,
  ChaosTarget,
  InjectedFault,
  Probe,
  ProbeCheck,
  ProbeContext,
  ProbeJournal,
  ProbeOptions,
  Sample,
  Sampler,
  TrafficRecord,
} from './types.js';

/** How long one rollback step may take (the cli allows chaos 20 s after Ctrl-C in all). */
const ROLLBACK_STEP_MS = 8_000;

/** A probe's network link: the proxy in front of the target while the probe runs. */
export interface ProbeLink {
  target: ChaosTarget;
  close(): Promise<void>;
}

export interface RunProbeOptions {
  probe: Probe;
  target: ChaosTarget;
  options: ProbeOptions;
  /** The run's user key (its token drives traffic and samples; its id matches the usage log). */
  token: string;
  keyIds: string[];
  trafficRate: number;
  /** A /v1/check slower than this fails a sample. */
  latencyBudgetMs: number;
  /** How long the steady state may take to hold before the fault (default: at least 10 s). */
  steadyStateTimeoutMs?: number;
  /** Clients for a URL: bound to the run's signal, or not (cleanup). */
  clientFor(url: string, bound: boolean): Promise<GovernanceClient>;
  /** TLS settings of the lean connections of traffic and samples. */
  tls?: { rejectUnauthorized?: boolean; ca?: string };
  /** Puts the network probe's proxy in front of the target, before traffic starts. */
  startLink?: (target: ChaosTarget) => Promise<ProbeLink>;
  emit(event: ChaosEvent): void;
}

class ProbeError extends Error {}
/** Ctrl-C: leaves the experiment for the rollbacks (the journal is made after them). */
class Interrupted extends Error {}

/**
 * One experiment: steady state before, the fault, samples during, removal, samples after until
 * the hypothesis holds again, then the accounting of acknowledged decisions and the probe's own
 * checks. Never throws: whatever happens is the journal entry. The rollbacks (fault removed,
 * traffic and sampler stopped, proxy closed, a managed server that is down started again) run in
 * `finally`, also when the run's signal fires.
 */
export async function runProbe(o: RunProbeOptions): Promise<ProbeJournal> {
  const { probe, options } = o;
  const name = probe.name;
  const signal = options.signal;
  const startedAt = Date.now();
  const budgetS = options.budgetMs / 1000;
  const reasons: string[] = [];
  const checks: ProbeCheck[] = [];
  let phase: 'setup' | Sample['phase'] | 'accounting' = 'setup';
  let fault: InjectedFault | undefined;
  let removedAt: number | null = null;
  let link: ProbeLink | undefined;
  let traffic: BackgroundTraffic | undefined;
  let sampler: Sampler | undefined;
  let trafficRecord: TrafficRecord | undefined;
  let samples: Sample[] = [];
  let errored = false;
  let records: ProbeJournal['records'] = { status: 'not_measured', reason: 'the probe did not get as far as the accounting' };
  const watch = new SteadyStateWatch();
  const emitPhase = (p: Extract<ChaosEvent, { type: 'phase' }>['phase'], detail?: string) =>
    o.emit({ type: 'phase', probe: name, phase: p, ...(detail !== undefined ? { detail } : {}) });

  try {
    link = name === 'network' && o.startLink ? await o.startLink(o.target) : undefined;
    const target = link?.target ?? o.target;
    const client = await o.clientFor(target.url, true);
    const cleanupClient = await o.clientFor(target.url, false);
    const timeoutMs = Math.max(o.latencyBudgetMs, options.intervalMs);
    traffic = startTraffic({ url: target.url, token: o.token, ratePerSecond: o.trafficRate, timeoutMs, signal, ...o.tls });
    sampler = startSampler({
      client,
      token: o.token,
      intervalMs: options.intervalMs,
      latencyBudgetMs: o.latencyBudgetMs,
      timeoutMs,
      signal,
      ...o.tls,
      onSample: (sample) => {
        watch.push(sample);
        const since = fault ? (sample.t - fault.injected_at) / 1000 : null;
        o.emit({ type: 'sample', probe: name, sample, since_fault_s: since });
      },
    });

    phase = 'before';
    sampler.setPhase('before');
    emitPhase('before', `waiting for ${options.healthySamples} consecutive healthy samples`);
    const steadyWithinMs = o.steadyStateTimeoutMs ?? Math.max(10_000, 4 * options.healthySamples * (options.intervalMs + timeoutMs));
    const steady = await watch.waitForRun(options.healthySamples, Date.now(), steadyWithinMs, signal);
    if (signal.aborted) throw new Interrupted();
    if (!steady) throw new ProbeError(`steady state not reached before the fault: ${options.healthySamples} consecutive healthy samples not seen within ${Math.round(steadyWithinMs / 1000)} s${lastError(sampler)}`);

    const ctx: ProbeContext = { target, client, cleanupClient, options, traffic, sampler, emit: o.emit };
    sampler.setPhase('during');
    phase = 'during';
    fault = await probe.inject(ctx);
    emitPhase('inject', `${fault.kind} ${describeParams(fault.params)}`);
    const afterDetail = `sampling until ${options.healthySamples} consecutive healthy samples, or the ${budgetS} s budget runs out`;
    if (fault.instantaneous) {
      // A kill is over at once: its samples from here on are the recovery, measured from the kill.
      sampler.setPhase('after');
      phase = 'after';
      emitPhase('after', afterDetail);
      await fault.remove();
      removedAt = Date.now();
    } else {
      emitPhase('during', `holding the fault for ${options.faultDurationMs / 1000} s`);
      await pause(options.faultDurationMs, signal);
      if (signal.aborted) throw new Interrupted();
      emitPhase('remove');
      await fault.remove();
      removedAt = Date.now();
      sampler.setPhase('after');
      phase = 'after';
      emitPhase('after', afterDetail);
    }
    if (signal.aborted) throw new Interrupted();
    const from = fault.instantaneous ? fault.injected_at : removedAt;
    const tail = (options.healthySamples + 1) * (options.intervalMs + timeoutMs);
    await watch.waitForRun(options.healthySamples, from, Math.max(0, from + options.budgetMs + tail - Date.now()), signal);
    if (signal.aborted) throw new Interrupted();
    if (fault.checks) checks.push(...(await fault.checks()));
  } catch (err) {
    if (!signal.aborted) {
      errored = true;
      reasons.push(err instanceof ProbeError ? err.message : `the ${name} probe could not run: ${messageOf(err)}`);
    }
  } finally {
    await rollback();
  }
  return finish();

  async function rollback(): Promise<void> {
    const step = async (what: string, task: () => Promise<unknown>) => {
      const ok = await bounded(
        task().then(
          () => true,
          (err: unknown) => {
            o.emit({ type: 'warning', message: `rollback of the ${name} probe: ${what} failed: ${messageOf(err)}` });
            return true;
          },
        ),
        ROLLBACK_STEP_MS,
        false,
      );
      if (!ok) o.emit({ type: 'warning', message: `rollback of the ${name} probe: ${what} did not finish within ${ROLLBACK_STEP_MS} ms` });
    };
    if (fault) {
      const f = fault;
      await step('removing the fault', () => f.remove());
      removedAt ??= Date.now();
    }
    if (traffic) {
      const t = traffic;
      await step('stopping the background traffic', async () => (trafficRecord = await t.stop()));
    }
    if (sampler) {
      const s = sampler;
      await step('stopping the sampler', async () => (samples = await s.stop()));
    }
    if (link) {
      const l = link;
      await step('closing the fault proxy', () => l.close());
    }
    const server = o.target.server;
    if (server && !server.running) {
      reasons.push('the server was down after the probe: govctl started it again');
      await step('starting the server again', () => server.restart());
    }
  }

  async function finish(): Promise<ProbeJournal> {
    const interrupted = signal.aborted;
    if (!interrupted && !errored && fault) {
      phase = 'accounting';
      emitPhase('accounting');
      records = await accountRecords(fault, trafficRecord);
      await stillHealthy();
    } else if (interrupted) {
      records = { status: 'not_measured', reason: 'the run was interrupted' };
      reasons.unshift(`interrupted during the ${phase} phase`);
    }
    const recovery = fault
      ? computeRecovery(samples, fault.injected_at, removedAt, fault.instantaneous, options.healthySamples)
      : { detection_s: null, recovery_s: null, recovered: false };
    const status = interrupted ? 'interrupted' : errored ? 'error' : verdict(recovery);
    emitPhase('done', status);
    const { decisions: _decisions, ...trafficSummary } = trafficRecord ?? emptyTraffic();
    return {
      probe: name,
      status,
      reasons,
      fault: fault ? { kind: fault.kind, params: fault.params, injected_at: fault.injected_at, removed_at: removedAt } : null,
      hypothesis: {
        before: summarizeHypothesis(samples, 'before', options.healthySamples),
        during: summarizeHypothesis(samples, 'during', options.healthySamples),
        after: summarizeHypothesis(samples, 'after', options.healthySamples),
      },
      detection_s: recovery.detection_s,
      recovery_s: recovery.recovery_s,
      budget_s: budgetS,
      records,
      ...flatRecords(records),
      traffic: trafficSummary,
      checks,
      samples,
      started_at: startedAt,
      ended_at: Date.now(),
    };
  }

  function verdict(recovery: { recovery_s: number | null; recovered: boolean }): ProbeJournal['status'] {
    if (!recovery.recovered || recovery.recovery_s === null) {
      reasons.push(`the service did not recover: no ${options.healthySamples} consecutive healthy samples within the ${budgetS} s budget`);
    } else if (recovery.recovery_s > budgetS) {
      reasons.push(`recovery took ${recovery.recovery_s.toFixed(2)} s, over the ${budgetS} s budget`);
    }
    if (records.status === 'measured' && records.lost > 0) {
      reasons.push(`${records.lost} of ${records.acknowledged} acknowledged decisions are missing from the usage log`);
    }
    for (const check of checks) if (!check.passed) reasons.push(`check failed: ${check.name}: ${check.detail}`);
    return reasons.length > 0 ? 'failed' : 'passed';
  }

  /** The decisions to look for: acknowledged before the kill (restart), else during the whole probe. */
  async function accountRecords(f: InjectedFault, record: TrafficRecord | undefined): Promise<ProbeJournal['records']> {
    const acknowledged = f.acknowledged_before_kill ?? record;
    if (!acknowledged) return { status: 'not_measured', reason: 'the background traffic recorded nothing' };
    try {
      const client = await o.clientFor(o.target.url, false);
      return await checkAcknowledgedRecords(client, {
        decisions: acknowledged.decisions,
        acknowledgedWithoutId: acknowledged.acknowledged_without_id,
        keyIds: o.keyIds,
        since: new Date(startedAt),
        until: new Date(),
      });
    } catch (err) {
      return { status: 'not_measured', reason: `the usage log could not be read: ${messageOf(err)}` };
    }
  }

  /** A probe that leaves the server unhealthy fails, whatever its samples said. */
  async function stillHealthy(): Promise<void> {
    const client = await o.clientFor(o.target.url, false);
    const health = await client.health().catch((err: unknown) => ({ healthy: false, reason: messageOf(err) }));
    if (!health.healthy) reasons.push(`the server was left unhealthy: ${health.reason ?? 'not healthy'}`);
  }
}

function lastError(sampler: Sampler): string {
  const last = sampler.samples.at(-1);
  if (!last) return ': no sample was taken';
  return last.error ? ` (last sample: ${last.error})` : '';
}

function describeParams(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return parts.length > 0 ? `(${parts.join(', ')})` : '';
}

function emptyTraffic(): TrafficRecord {
  return { sent: 0, acknowledged: 0, decisions: [], acknowledged_without_id: 0, errors: {}, statuses: {} };
}

/** records_acknowledged / records_lost as the issue names them: null unless measured. */
export function flatRecords(records: ProbeJournal['records']): Pick<ProbeJournal, 'records_acknowledged' | 'records_lost'> {
  return records.status === 'measured'
    ? { records_acknowledged: records.acknowledged, records_lost: records.lost }
    : { records_acknowledged: null, records_lost: null };
}
