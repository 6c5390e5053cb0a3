import { performance } from 'node:perf_hooks';
import { startClosedModel } from './closed-model.js';
import { createConnection } from './http/connection.js';
import { startOpenModel } from './open-model.js';
import { LoadRecorder } from './recorder.js';
import { buildRequestTable } from './request-table.js';
import { createPicker, createRng } from './rng.js';
import { wallOf, type SendContext, type SendCounters } from './send.js';
import { buildTimeline } from './timeline.js';
import type { ResolvedProfile, ResolvedScenario } from './types.js';

/** How long requests still in flight at the end may finish before their connections are cut. */
const GRACEFUL_STOP_MS = 5_000;
const CLOCK_MS = 100;

export interface DriveOptions {
  profile: ResolvedProfile;
  scenario: ResolvedScenario;
  url: URL;
  /** API tokens; VU (or connection) i uses token i mod n. Empty when no request needs one. */
  tokens: readonly string[];
  seed: number;
  rejectUnauthorized?: boolean;
  ca?: string;
  signal?: AbortSignal;
  /** Once a second, for the progress line. */
  onTick?: (tick: DriveTick) => void;
  onLateSend?: (lateMs: number) => void;
}

export interface DriveTick {
  elapsed_ms: number;
  total_ms: number;
  warmup: boolean;
  stage: number;
  stage_label: string | null;
  level: number;
  live: ReturnType<LoadRecorder['live']>;
}

export interface DriveResult {
  recorded: ReturnType<LoadRecorder['finish']>;
  counters: SendCounters;
  window: { started_at: number; ended_at: number; warmup_ms: number };
  interrupted: boolean;
  /** Connections the generator opened (closed model: the peak VUs). */
  connections: number;
}

/**
 * Runs one profile against one target from this thread: the timeline (warm-up, stages), the
 * closed or open scheduler over keep-alive connections, and the recorder. The engine adds keys,
 * resources and analyses around it; worker threads run it as it is.
 */
export async function drive(options: DriveOptions): Promise<DriveResult> {
  const { profile, scenario } = options;
  const table = buildRequestTable(scenario, options.url, options.tokens);
  const random = createRng(options.seed);
  const pick = createPicker(scenario.requests.map((r) => r.weight), random);
  const timeline = buildTimeline(profile);
  const counters: SendCounters = { sent: 0, acknowledged: new Array<number>(table.keyCount).fill(0), inFlight: 0 };

  const startedAt = performance.now();
  const windowStart = wallOf(startedAt + timeline.warmupMs);
  const recorder = new LoadRecorder({
    requests: scenario.requests.map((r) => r.name),
    startedAt: windowStart,
    levelAt: (wallMs: number) => timeline.levelAt(wallMs - wallOf(startedAt)),
  });
  const ctx: SendContext = { requests: scenario.requests, table, recorder, pick, random, counters };
  const newConnection = () =>
    createConnection({
      url: options.url,
      timeoutMs: profile.timeout_ms,
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });

  const closed = profile.model === 'closed' ? startClosedModel(ctx, newConnection) : undefined;
  const open =
    profile.model === 'open'
      ? startOpenModel(ctx, newConnection, {
          schedule: timeline.arrivals(),
          startedAt,
          maxConnections: profile.max_vus,
          dropAfterMs: profile.timeout_ms,
          ...(options.onLateSend ? { onLateSend: options.onLateSend } : {}),
        })
      : undefined;

  // -1 is the warm-up; each stage is announced to the recorder once, at its scheduled start.
  let stage = -1;
  let lastTick = startedAt;
  let peakConnections = 0;
  let interrupted = false;
  const stageStartMs = (index: number): number =>
    timeline.warmupMs + profile.stages.slice(0, index).reduce((sum, s) => sum + s.duration_ms, 0);

  await new Promise<void>((resolve) => {
    const step = (): void => {
      const now = performance.now();
      const elapsed = now - startedAt;
      const done = elapsed >= timeline.totalMs || options.signal?.aborted === true;
      const current = timeline.stageAt(Math.min(elapsed, timeline.totalMs - 1e-6));
      while (stage < current) {
        stage++;
        recorder.beginStage(stage, timeline.stageLabel(stage), timeline.stageLevel(stage), wallOf(startedAt + stageStartMs(stage)));
      }
      if (closed && !done) {
        closed.setLevel(timeline.levelAt(elapsed));
        peakConnections = Math.max(peakConnections, closed.level);
      }
      if (now - lastTick >= 1000 || done) {
        lastTick = now;
        recorder.tick(wallOf(now));
        options.onTick?.({
          elapsed_ms: Math.min(elapsed, timeline.totalMs),
          total_ms: timeline.totalMs,
          warmup: elapsed < timeline.warmupMs,
          stage: current,
          stage_label: current >= 0 ? timeline.stageLabel(current) : null,
          level: timeline.levelAt(elapsed),
          live: recorder.live(),
        });
      }
      if (done) {
        interrupted = options.signal?.aborted === true;
        clearInterval(clock);
        resolve();
      }
    };
    const clock = setInterval(step, CLOCK_MS);
    step();
  });

  const endedAt = wallOf(Math.min(performance.now(), startedAt + timeline.totalMs));
  // Requests in flight finish (within a grace period, none at all after Ctrl-C) before the
  // connections close: an answered request is recorded, an abandoned one is not invented.
  const drained = closed ? closed.stop() : (open!.stop(), open!.finished);
  const grace = interrupted ? 0 : Math.min(GRACEFUL_STOP_MS, profile.timeout_ms);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, grace)))]);
  clearTimeout(timer);
  closed?.close();
  open?.close();
  if (open) peakConnections = open.connections;

  return {
    recorded: recorder.finish(endedAt),
    counters,
    window: { started_at: windowStart, ended_at: endedAt, warmup_ms: timeline.warmupMs },
    interrupted,
    connections: peakConnections,
  };
}
