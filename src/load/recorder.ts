import { addCounts, countsToHistogram, countUs, encodeHistogram, newCounts, newHistogram, newWideCounts, percentileMs } from './histogram.js';
import { addCounters, buildTotals, newCounters, resetCounters, type Counters } from './totals.js';
import type { Interval, RequestOutcome, StageResult, Totals } from './types.js';

/** Status classes in the order of their index: (status / 100 | 0) - 2, anything else "none". */
export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'none'] as const;
const CLASS_COUNT = STATUS_CLASSES.length;
const NONE = CLASS_COUNT - 1;
const MAX_STATUS = 600;

export type RecordedStage = Omit<StageResult, 'broken' | 'reasons'>;

export interface RecordedRun {
  totals: Totals;
  endpoints: Record<string, Totals>;
  status_classes: Record<string, Totals>;
  intervals: Interval[];
  stages: RecordedStage[];
}

export interface LiveFigures {
  elapsed_ms: number;
  requests: number;
  errors: number;
  throttled: number;
  dropped: number;
  /** Requests per second in the last closed second. */
  rps: number;
  /** p99 of the last closed second, null before one closed or when it had no request. */
  p99_ms: number | null;
}

export interface LoadRecorderOptions {
  /** Endpoint names; index = RequestOutcome.request. */
  requests: string[];
  /** Wall ms of the measured window's start; outcomes before it (warm-up) are ignored. */
  startedAt: number;
  /** The intended load level at a wall time (the per-second series shows it). */
  levelAt?: (wallMs: number) => number;
}

/** Run, endpoint, status class or stage: bucket counts (histogram layout) and counters. */
interface Agg {
  latency: Float64Array;
  service: Float64Array;
  counters: Counters;
}

/** What one (endpoint, status class) pair received since the last flush. */
interface Cell {
  /** Latency and service time as bucket counts (histogram.ts countUs). */
  latency: Uint32Array;
  service: Uint32Array;
  counters: Counters;
  endpoint: number;
  cls: number;
  /** Status code -> count, cheaper than a Map on the hot path. */
  codes: Uint32Array;
  dirty: boolean;
}

interface OpenStage {
  index: number;
  label: string;
  level: number;
  started_at: number;
  agg: Agg;
}

const newAgg = (): Agg => ({ latency: newWideCounts(), service: newWideCounts(), counters: newCounters() });

/**
 * Records every outcome into HDR histograms without keeping samples. The hot path counts each
 * outcome's latency and service time into the bucket counts of its (endpoint, status class) cell
 * (one clz32 and an increment each); the cells are added into the run, endpoint, status class,
 * stage and per-second counts when a second closes or a stage begins (a few typed-array additions
 * per second instead of nine histogram recordings per request). Counts have the histograms'
 * bucket layout, so turning them into histograms to summarise and encode is exact. Seconds are whole wall-clock seconds (t = a multiple of 1000), so
 * the series of shards started apart line up exactly when merged; the first and last seconds of a
 * window are partial. Memory stays flat: a closed second keeps only its summary and encoded
 * histogram, and the open second's histogram is reset and reused.
 */
export class LoadRecorder {
  private readonly names: string[];
  private readonly startedAt: number;
  private readonly levelAt: ((wallMs: number) => number) | undefined;

  private readonly cells: Array<Cell | undefined> = [];
  private readonly dirty: Cell[] = [];
  private readonly run = newAgg();
  private readonly endpoints: Agg[];
  private readonly classes: Array<Agg | undefined> = new Array(CLASS_COUNT).fill(undefined);
  private stage: OpenStage | undefined;
  private spareStage: Agg | undefined;
  private readonly stages: RecordedStage[] = [];

  private secondStart: number;
  private secondEnd: number;
  private readonly second = newCounts();
  /** The two histograms counts become to be summarised and encoded (reused). */
  private readonly latencyHdr = newHistogram();
  private readonly serviceHdr = newHistogram();
  private secRequests = 0;
  private secErrors = 0;
  private secThrottled = 0;
  private secDropped = 0;
  private readonly intervals: Interval[] = [];
  private reported = 0;

  private closedRequests = 0;
  private closedErrors = 0;
  private closedThrottled = 0;
  private closedDropped = 0;
  private lastNow: number;
  private result: RecordedRun | undefined;

  constructor(options: LoadRecorderOptions) {
    this.names = [...options.requests];
    this.startedAt = options.startedAt;
    this.levelAt = options.levelAt;
    this.endpoints = this.names.map(() => newAgg());
    this.secondStart = Math.floor(options.startedAt / 1000) * 1000;
    this.secondEnd = this.secondStart + 1000;
    this.lastNow = options.startedAt;
  }

  /** Hot path: one finished request. */
  record(o: RequestOutcome): void {
    const at = o.at;
    if (at < this.startedAt || this.result) return;
    if (at >= this.secondEnd) this.roll(at);
    const cls = classIndex(o.status);
    const cell = this.cells[o.request * CLASS_COUNT + cls] ?? this.newCell(o.request, cls);
    if (!cell.dirty) {
      cell.dirty = true;
      this.dirty.push(cell);
    }
    countUs(cell.latency, o.latencyUs);
    countUs(cell.service, o.serviceUs);
    const c = cell.counters;
    c.requests++;
    this.secRequests++;
    if (o.error !== undefined) {
      c.errors++;
      c.error_classes[o.error]++;
      this.secErrors++;
    }
    if (o.throttled) {
      c.throttled++;
      this.secThrottled++;
      if (o.retryAfter !== true) c.throttled_without_retry_after++;
    } else if (o.error === undefined) {
      c.ok++;
    }
    const status = o.status;
    if (status >= 0 && status < MAX_STATUS) cell.codes[status]!++;
    else c.status.set(status, (c.status.get(status) ?? 0) + 1);
  }

  /** An arrival that could not be sent on time (open model). */
  dropped(atWallMs: number, request?: number): void {
    if (atWallMs < this.startedAt || this.result) return;
    if (atWallMs >= this.secondEnd) this.roll(atWallMs);
    this.run.counters.dropped++;
    if (request !== undefined && this.endpoints[request]) this.endpoints[request].counters.dropped++;
    if (this.stage) this.stage.agg.counters.dropped++;
    this.secDropped++;
  }

  /** A new stage starts; what was recorded so far belongs to the previous one. */
  beginStage(index: number, label: string, level: number, atWallMs: number): void {
    if (this.result) return;
    this.flush();
    this.closeStage(atWallMs);
    const agg = this.spareStage ?? newAgg();
    this.spareStage = undefined;
    this.stage = { index, label, level, started_at: Math.max(atWallMs, this.startedAt), agg };
  }

  /** Closes every whole second that has ended by `nowWallMs`; returns those not returned before. */
  tick(nowWallMs: number): Interval[] {
    this.lastNow = Math.max(this.lastNow, nowWallMs);
    if (!this.result && nowWallMs >= this.secondEnd) this.roll(nowWallMs);
    const fresh = this.intervals.slice(this.reported);
    this.reported = this.intervals.length;
    return fresh;
  }

  /** Figures for the progress line (as of the last tick). */
  live(): LiveFigures {
    const last = this.intervals[this.intervals.length - 1];
    const covered = last ? (last.t + 1000 - Math.max(last.t, this.startedAt)) / 1000 : 0;
    return {
      elapsed_ms: Math.max(0, this.lastNow - this.startedAt),
      requests: this.closedRequests + this.secRequests,
      errors: this.closedErrors + this.secErrors,
      throttled: this.closedThrottled + this.secThrottled,
      dropped: this.closedDropped + this.secDropped,
      rps: last && covered > 0 ? last.requests / covered : 0,
      p99_ms: last?.latency_ms?.p99 ?? null,
    };
  }

  /** Closes the window at `endedAtWallMs` and returns everything recorded. Later calls return the same. */
  finish(endedAtWallMs: number): RecordedRun {
    if (this.result) return this.result;
    this.roll(endedAtWallMs);
    // The partial last second (or one holding requests that completed while draining).
    if (this.secondStart < endedAtWallMs || this.secRequests > 0 || this.secDropped > 0 || this.dirty.length > 0) this.closeSecond();
    this.closeStage(endedAtWallMs);
    const duration = endedAtWallMs - this.startedAt;
    const endpoints: Record<string, Totals> = {};
    this.names.forEach((name, i) => {
      const agg = this.endpoints[i]!;
      endpoints[name] = this.totalsOf(agg, duration);
    });
    const status_classes: Record<string, Totals> = {};
    this.classes.forEach((agg, i) => {
      if (agg && agg.counters.requests > 0) status_classes[STATUS_CLASSES[i]!] = this.totalsOf(agg, duration);
    });
    this.result = {
      totals: this.totalsOf(this.run, duration),
      endpoints,
      status_classes,
      intervals: this.intervals,
      stages: this.stages,
    };
    return this.result;
  }

  private totalsOf(agg: Agg, durationMs: number): Totals {
    return buildTotals(agg.counters, countsToHistogram(agg.latency, this.latencyHdr), countsToHistogram(agg.service, this.serviceHdr), durationMs);
  }

  private newCell(endpoint: number, cls: number): Cell {
    if (!Number.isInteger(endpoint) || endpoint < 0 || endpoint >= this.names.length) {
      throw new RangeError(`outcome for request ${endpoint}, but the scenario has ${this.names.length} requests`);
    }
    const cell: Cell = { latency: newCounts(), service: newCounts(), counters: newCounters(), endpoint, cls, codes: new Uint32Array(MAX_STATUS), dirty: false };
    this.cells[endpoint * CLASS_COUNT + cls] = cell;
    return cell;
  }

  /** Folds the cells into every aggregate and the open second, then empties them. */
  private flush(): void {
    for (const cell of this.dirty) {
      const codes = cell.codes;
      for (let s = 0; s < MAX_STATUS; s++) {
        if (codes[s] !== 0) {
          cell.counters.status.set(s, (cell.counters.status.get(s) ?? 0) + codes[s]!);
          codes[s] = 0;
        }
      }
      const cls = (this.classes[cell.cls] ??= newAgg());
      const targets = [this.run, this.endpoints[cell.endpoint]!, cls];
      if (this.stage) targets.push(this.stage.agg);
      for (const target of targets) {
        addCounts(target.latency, cell.latency);
        addCounts(target.service, cell.service);
        addCounters(target.counters, cell.counters);
      }
      addCounts(this.second, cell.latency);
      cell.latency.fill(0);
      cell.service.fill(0);
      resetCounters(cell.counters);
      cell.dirty = false;
    }
    this.dirty.length = 0;
  }

  /** Closes every second that ends at or before `at`. */
  private roll(at: number): void {
    while (at >= this.secondEnd) this.closeSecond();
  }

  private closeSecond(): void {
    this.flush();
    const t = this.secondStart;
    const h = countsToHistogram(this.second, this.latencyHdr);
    const from = Math.max(t, this.startedAt);
    const interval: Interval = {
      t,
      requests: this.secRequests,
      errors: this.secErrors,
      throttled: this.secThrottled,
      dropped: this.secDropped,
      latency_ms:
        h.totalCount > 0 ? { p50: percentileMs(h, 50), p90: percentileMs(h, 90), p99: percentileMs(h, 99), max: percentileMs(h, 100) } : null,
      level: this.levelAt ? this.levelAt(from + (t + 1000 - from) / 2) : (this.stage?.level ?? 0),
      histogram: encodeHistogram(h),
    };
    this.intervals.push(interval);
    this.closedRequests += this.secRequests;
    this.closedErrors += this.secErrors;
    this.closedThrottled += this.secThrottled;
    this.closedDropped += this.secDropped;
    this.secRequests = this.secErrors = this.secThrottled = this.secDropped = 0;
    this.second.fill(0);
    this.secondStart = this.secondEnd;
    this.secondEnd += 1000;
  }

  private closeStage(atWallMs: number): void {
    const stage = this.stage;
    if (!stage) return;
    const ended_at = Math.max(atWallMs, stage.started_at);
    const { histograms, ...totals } = this.totalsOf(stage.agg, ended_at - stage.started_at);
    this.stages.push({ index: stage.index, label: stage.label, level: stage.level, started_at: stage.started_at, ended_at, totals, histograms });
    stage.agg.latency.fill(0);
    stage.agg.service.fill(0);
    resetCounters(stage.agg.counters);
    this.spareStage = stage.agg;
    this.stage = undefined;
  }
}

function classIndex(status: number): number {
  const hundreds = (status / 100) | 0;
  return hundreds >= 2 && hundreds <= 5 ? hundreds - 2 : NONE;
}
