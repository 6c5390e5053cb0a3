import type { MetricsResult } from '../client/governance-client.js';
import type { MetricSample, ParsedMetrics } from '../client/prometheus.js';
import { messageOf } from '../core/errors.js';
import type { ProcessSample } from '../target/proc-sample.js';
import type { LoadReportData, ResourceSample } from './types.js';

/**
 * Resources during a run: the generator's own CPU and memory every second, the target process's
 * when govctl manages it (/proc), and the server's /metrics scraped at the start, every few
 * seconds and at the end (counters as deltas, gauges at the end, the RSS trend of a remote
 * target). Nothing here is fatal to the run: what could not be read is "not measured".
 */

export interface ResourceSamplerOptions {
  /** Client and process samples (default 1000 ms). */
  intervalMs?: number;
  /** The managed target process. */
  server?: { sample(): ProcessSample | undefined };
  scrapeMetrics?: () => Promise<MetricsResult>;
  /** Scrapes between the first and the last (default 5000 ms). */
  metricsEveryMs?: number;
  /** Stops sampling (stop() still returns what was gathered, without a final scrape). */
  signal?: AbortSignal;
}

export type ResourceSummary = LoadReportData['resources'] & {
  /** The target's memory trend: the managed process's samples, else /metrics' process_resident_memory_bytes. */
  rss: Array<{ t: number; rss_bytes: number }>;
  rssSource: 'process' | 'metrics' | null;
};

export interface ResourceSampler {
  /** Resolves once the start scrape is done (whether it worked or not): await it for exact deltas. */
  readonly ready: Promise<void>;
  /** Stops the timers, scrapes /metrics a last time and returns the summary. Idempotent. */
  stop(): Promise<ResourceSummary>;
}

/**
 * Counters also kept per label set in the summary: requests by endpoint and status are what a
 * run is about. Per-model decision counters stay summed (one series per model x operation
 * would fill every report), and labelled series are capped like gauges.
 */
const LABELLED_COUNTERS = new Set(['requests_total', 'http_requests_total', 'rate_limit_hits_total', 'logs_written_total']);
const MAX_LABELLED = 200;
/** Gauge series kept at most: a server exposing thousands must not bloat every report. */
const MAX_GAUGES = 200;
const RSS_METRIC = 'process_resident_memory_bytes';
const CPU_METRIC = 'process_cpu_seconds_total';

export function startResourceSampler(options: ResourceSamplerOptions = {}): ResourceSampler {
  const intervalMs = options.intervalMs ?? 1_000;
  const client: ResourceSample[] = [];
  const processSamples: ResourceSample[] = [];
  const counters = new CounterDeltas();
  const metricsSamples: Array<{ t: number; rss?: number; cpuSeconds?: number }> = [];
  let lastMetrics: MetricsResult | undefined;
  let scrapeError: string | undefined;
  let scrapes = 0;

  let cpuBefore = process.cpuUsage();
  let wallBefore = performance.now();
  let processBefore = options.server?.sample();

  const sample = (): void => {
    const t = Date.now();
    const wall = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const elapsedMs = wall - wallBefore;
    if (elapsedMs > 0) {
      // Percent of one core: user + system CPU time over wall time.
      client.push({ t, cpu_pct: round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100), rss_bytes: process.memoryUsage.rss() });
    }
    cpuBefore = process.cpuUsage();
    wallBefore = wall;
    if (options.server) {
      const now = options.server.sample();
      if (now && processBefore && now.pid === processBefore.pid && now.takenAt > processBefore.takenAt) {
        const cpuPct = ((now.cpuSeconds - processBefore.cpuSeconds) / ((now.takenAt - processBefore.takenAt) / 1000)) * 100;
        processSamples.push({ t: now.takenAt, cpu_pct: round(Math.max(0, cpuPct)), rss_bytes: now.rssBytes });
      }
      // A restarted process (new pid) starts a new baseline.
      processBefore = now ?? processBefore;
    }
  };

  let scraping: Promise<void> | undefined;
  const scrape = (): Promise<void> => {
    const scrapeMetrics = options.scrapeMetrics;
    if (!scrapeMetrics) return Promise.resolve();
    // One scrape at a time: a slow /metrics must not pile up requests during a load run.
    scraping ??= (async () => {
      try {
        const metrics = await scrapeMetrics();
        const t = Date.now();
        scrapes++;
        counters.add(metrics, scrapes === 1);
        lastMetrics = metrics;
        const rss = unlabelled(metrics.samples, RSS_METRIC);
        const cpuSeconds = unlabelled(metrics.samples, CPU_METRIC);
        if (rss !== undefined || cpuSeconds !== undefined) metricsSamples.push({ t, ...(rss !== undefined ? { rss } : {}), ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) });
      } catch (err) {
        scrapeError = messageOf(err);
      } finally {
        scraping = undefined;
      }
    })();
    return scraping;
  };

  const timers = [setInterval(sample, intervalMs)];
  if (options.scrapeMetrics) timers.push(setInterval(() => void scrape(), options.metricsEveryMs ?? 5_000));
  for (const timer of timers) timer.unref();
  const stopTimers = () => {
    for (const timer of timers) clearInterval(timer);
  };
  options.signal?.addEventListener('abort', stopTimers, { once: true });
  const ready = scrape();

  let result: Promise<ResourceSummary> | undefined;
  const finish = async (): Promise<ResourceSummary> => {
    const interrupted = options.signal?.aborted === true;
    stopTimers();
    options.signal?.removeEventListener('abort', stopTimers);
    if (!interrupted) sample();
    if (scraping) await scraping;
    // After Ctrl-C the user is waiting: no last scrape (the deltas end at the last one made).
    if (!interrupted) await scrape();

    const metrics: ResourceSummary['metrics'] = lastMetrics
      ? { status: 'measured', counters: scrapes >= 2 ? counters.summary() : {}, gauges: gaugesOf(lastMetrics) }
      : {
          status: 'not_measured',
          reason: options.scrapeMetrics
            ? `the server's /metrics could not be read: ${scrapeError ?? 'no scrape finished'}`
            : 'no /metrics to scrape',
        };
    const fromMetrics = targetFromMetrics(metricsSamples);
    const metricsRss = metricsSamples.filter((s) => s.rss !== undefined).map((s) => ({ t: s.t, rss_bytes: s.rss! }));
    let target: ResourceSummary['target'];
    if (processSamples.length > 0) target = { status: 'measured', samples: processSamples };
    else if (fromMetrics.length > 0) target = { status: 'measured', samples: fromMetrics };
    else {
      target = {
        status: 'not_measured',
        reason: options.server
          ? 'the target process could not be sampled (/proc unreadable, or it was not running)'
          : 'the target is not a process govctl manages, and its /metrics has no process_resident_memory_bytes and process_cpu_seconds_total',
      };
    }
    const rssSource = processSamples.length > 0 ? 'process' : metricsRss.length > 0 ? 'metrics' : null;
    return {
      client,
      target,
      metrics,
      rss: rssSource === 'process' ? processSamples.map((s) => ({ t: s.t, rss_bytes: s.rss_bytes })) : metricsRss,
      rssSource,
    };
  };
  return {
    ready,
    stop() {
      result ??= finish();
      return result;
    },
  };
}

/**
 * Counter increases since the first scrape, per series, summed scrape by scrape so a server
 * restart (a counter going down) does not turn into a negative or lost delta. A series that
 * first appears after the first scrape started from 0 during the run.
 */
class CounterDeltas {
  private readonly series = new Map<string, { name: string; previous: number; delta: number }>();

  add(metrics: ParsedMetrics, baseline: boolean): void {
    for (const s of metrics.samples) {
      if (!Number.isFinite(s.value) || kindOf(s.name, metrics.families) !== 'counter') continue;
      const key = seriesKey(s.name, s.labels);
      const known = this.series.get(key);
      if (!known) {
        this.series.set(key, { name: s.name, previous: s.value, delta: baseline ? 0 : s.value });
        continue;
      }
      known.delta += s.value >= known.previous ? s.value - known.previous : s.value;
      known.previous = s.value;
    }
  }

  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    let labelled = 0;
    for (const [key, { name, delta }] of this.series) {
      out[name] = round((out[name] ?? 0) + delta);
      if (LABELLED_COUNTERS.has(name) && key !== name && labelled < MAX_LABELLED) {
        out[key] = round(delta);
        labelled++;
      }
    }
    return out;
  }
}

/**
 * What a sample is, from its family's TYPE: counters (and a histogram's or summary's _count and
 * _sum, which only grow), gauges (and untyped samples not named like counters), or neither
 * (histogram buckets, quantiles: too many series to be worth a report).
 */
function kindOf(name: string, families: ParsedMetrics['families']): 'counter' | 'gauge' | undefined {
  const type = (n: string) => families[n]?.type;
  if (type(name) === 'counter') return 'counter';
  if (name.endsWith('_total') && (type(name.slice(0, -6)) === 'counter' || type(name) === undefined)) return 'counter';
  for (const suffix of ['_count', '_sum', '_bucket']) {
    if (!name.endsWith(suffix)) continue;
    const base = type(name.slice(0, -suffix.length));
    if (base === 'histogram' || base === 'summary') return suffix === '_bucket' ? undefined : 'counter';
  }
  if (type(name) === 'histogram' || type(name) === 'summary') return undefined;
  return 'gauge';
}

function gaugesOf(metrics: ParsedMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  let n = 0;
  for (const s of metrics.samples) {
    if (n >= MAX_GAUGES) break;
    if (!Number.isFinite(s.value) || kindOf(s.name, metrics.families) !== 'gauge') continue;
    out[seriesKey(s.name, s.labels)] = s.value;
    n++;
  }
  return out;
}

/** A remote target's CPU and RSS from consecutive scrapes of its process metrics. */
function targetFromMetrics(samples: Array<{ t: number; rss?: number; cpuSeconds?: number }>): ResourceSample[] {
  const out: ResourceSample[] = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!;
    const now = samples[i]!;
    if (now.rss === undefined || now.cpuSeconds === undefined || before.cpuSeconds === undefined || now.t <= before.t) continue;
    // A restart resets the CPU counter: that interval is skipped rather than guessed.
    if (now.cpuSeconds < before.cpuSeconds) continue;
    out.push({ t: now.t, cpu_pct: round(((now.cpuSeconds - before.cpuSeconds) / ((now.t - before.t) / 1000)) * 100), rss_bytes: now.rss });
  }
  return out;
}

function unlabelled(samples: MetricSample[], name: string): number | undefined {
  const value = samples.find((s) => s.name === name && Object.keys(s.labels).length === 0)?.value;
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** `name{a="1",b="2"}` with labels sorted, or the bare name. */
function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
