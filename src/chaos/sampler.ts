import { performance } from 'node:perf_hooks';
import { toHealthReport } from '../client/health.js';
import type { HttpResponse } from '../client/http.js';
import { visible } from '../core/visible-text.js';
import type { LeanHttpConnection } from '../load/http/connection.js';
import type { ErrorClass, RawResponse } from '../load/types.js';
import { checkRequestBytes, leanTarget } from './traffic.js';
import type { Sample, Sampler, SamplerOptions } from './types.js';

/**
 * The steady-state sampler: every interval one sample of GET /health and POST /v1/check, sent
 * in parallel on two keep-alive lean connections (src/load/http), each bounded by the sample
 * timeout, with no retries: a sample says what one client saw at that moment. One sample at a
 * time: when a sample takes longer than the interval, the next starts as soon as it ends. A
 * sample's `t` is the wall time it started.
 */

/** The interval the cli uses when --interval is not given. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 100;

interface Answer {
  error?: ErrorClass;
  /** Why, for 'other' (a parse or TLS error); never holds request data. */
  detail?: string;
  response?: RawResponse;
  latencyMs: number;
}

function send(connection: LeanHttpConnection, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    connection.request(bytes, true, (error, response, sentAt) => {
      const latencyMs = performance.now() - sentAt;
      if (error !== undefined || response === undefined) {
        const e = error ?? 'other';
        resolve({ error: e, latencyMs, ...(e === 'other' && connection.lastError ? { detail: connection.lastError } : {}) });
      } else resolve({ response, latencyMs });
    });
  });
}

/** The server's `detail` of an error answer, cut short and made safe to print. */
function detailOf(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const detail = (JSON.parse(body.toString('utf8')) as { detail?: unknown } | null)?.detail;
    if (typeof detail !== 'string') return undefined;
    return visible(detail.length > 80 ? `${detail.slice(0, 77)}...` : detail);
  } catch {
    return undefined;
  }
}

function transportError(answer: Answer): string {
  return answer.detail === undefined ? answer.error! : `${answer.error!}: ${visible(answer.detail)}`;
}

/** Turns the two answers into a sample. */
function toSample(t: number, phase: Sample['phase'], health: Answer, check: Answer, latencyBudgetMs: number): Sample {
  const problems: string[] = [];
  let healthy = false;
  if (health.response !== undefined) {
    const { status, body } = health.response;
    const text = body?.toString('utf8') ?? '';
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    const asHttp: HttpResponse = { status, headers: {}, body: parsed, text, ms: health.latencyMs };
    const report = toHealthReport(asHttp, false);
    healthy = report.healthy;
    if (!healthy) problems.push(`health ${status}${report.reason !== null && status === 200 ? `: ${report.reason}` : ''}`);
  }
  let checkOk = false;
  if (check.response !== undefined) {
    const { status, body } = check.response;
    if (status !== 200) {
      const detail = detailOf(body);
      problems.push(`check ${status}${detail !== undefined ? ` ${detail}` : ''}`);
    } else if (check.latencyMs > latencyBudgetMs) {
      problems.push(`check took ${Math.round(check.latencyMs)} ms (budget ${latencyBudgetMs} ms)`);
    } else checkOk = true;
  }
  // The same transport failure on both halves is said once ("refused", "timeout").
  if (health.error !== undefined && check.error !== undefined && transportError(health) === transportError(check)) {
    problems.unshift(transportError(health));
  } else {
    if (health.error !== undefined) problems.unshift(`health ${transportError(health)}`);
    if (check.error !== undefined) problems.push(`check ${transportError(check)}`);
  }
  return {
    t,
    phase,
    healthy,
    health_status: health.response?.status ?? null,
    check_ok: checkOk,
    check_status: check.response?.status ?? null,
    check_latency_ms: check.response !== undefined ? Math.round(check.latencyMs * 100) / 100 : null,
    ...(problems.length > 0 ? { error: problems.join('; ') } : {}),
  };
}

interface Waiter {
  predicate: (s: Sample) => boolean;
  since: number;
  resolve: (s: Sample | undefined) => void;
  timer: NodeJS.Timeout;
}

export function startSampler(options: SamplerOptions): Sampler {
  const { intervalMs } = options;
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new RangeError(`the sample interval must be positive (got ${intervalMs})`);
  if (!(options.timeoutMs > 0)) throw new RangeError(`the sample timeout must be positive (got ${options.timeoutMs})`);
  const target = leanTarget(options.client.http.baseUrl, options);
  const healthBytes = target.bytes('GET', '/health', {});
  const checkBytes = checkRequestBytes(target, options.token, 'chaos-sample');
  const healthConnection = target.connect(options.timeoutMs);
  const checkConnection = target.connect(options.timeoutMs);

  const samples: Sample[] = [];
  const waiters = new Set<Waiter>();
  let phase: Sample['phase'] = 'before';
  let stopped = false;
  let wake: (() => void) | undefined;
  let sleepTimer: NodeJS.Timeout | undefined;

  const settle = (waiter: Waiter, sample: Sample | undefined): void => {
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
    waiter.resolve(sample);
  };
  const halt = (): void => {
    stopped = true;
    if (sleepTimer !== undefined) clearTimeout(sleepTimer);
    wake?.();
    for (const waiter of [...waiters]) settle(waiter, undefined);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      const startedAt = performance.now();
      const t = Date.now();
      const [health, check] = await Promise.all([send(healthConnection, healthBytes), send(checkConnection, checkBytes)]);
      const sample = toSample(t, phase, health, check, options.latencyBudgetMs);
      samples.push(sample);
      try {
        options.onSample?.(sample);
      } catch {
        // A progress callback must not end the sampling.
      }
      for (const waiter of [...waiters]) if (sample.t >= waiter.since && waiter.predicate(sample)) settle(waiter, sample);
      if (stopped) break;
      const delay = startedAt + intervalMs - performance.now();
      if (delay > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          sleepTimer = setTimeout(resolve, delay);
        });
        wake = undefined;
        sleepTimer = undefined;
      }
    }
  };

  options.signal?.addEventListener('abort', halt, { once: true });
  const running = options.signal?.aborted ? (halt(), Promise.resolve()) : loop();

  let stopping: Promise<Sample[]> | undefined;
  return {
    setPhase(next) {
      phase = next;
    },
    get samples() {
      return samples;
    },
    waitFor(predicate, since, timeoutMs) {
      const found = samples.find((s) => s.t >= since && predicate(s));
      if (found !== undefined || stopped) return Promise.resolve(found);
      return new Promise((resolve) => {
        const waiter: Waiter = { predicate, since, resolve, timer: setTimeout(() => settle(waiter, undefined), Math.max(0, timeoutMs)) };
        waiters.add(waiter);
      });
    },
    stop() {
      stopping ??= (async () => {
        halt();
        options.signal?.removeEventListener('abort', halt);
        // The sample in flight ends by its requests' own timeout.
        await running;
        healthConnection.close();
        checkConnection.close();
        return samples.slice();
      })();
      return stopping;
    },
  };
}
