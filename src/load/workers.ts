import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../core/thread.js';
import type { DriveOptions, DriveResult, DriveTick } from './drive.js';
import type { DriveWorkerData, DriveWorkerMessage } from './drive-worker.js';
import { mergeRecorded } from './merge.js';
import { segmentProfile, segmentSeed } from './segment.js';

/**
 * Runs the load from `count` worker threads, each one shard of the profile (its share of VUs or
 * rate, its own seed, its share of the keys), and merges their results through the same exact
 * merge that `report merge` uses: histograms added, counters summed, seconds aligned.
 */
export async function driveInWorkers(options: DriveOptions, count: number): Promise<DriveResult> {
  const shards = Array.from({ length: count }, (_, index): DriveWorkerData => {
    const tokens = options.tokens.length >= count ? options.tokens.filter((_t, i) => i % count === index) : [...options.tokens];
    return {
      profile: segmentProfile(options.profile, index, count),
      scenario: options.scenario,
      url: options.url.href,
      tokens,
      seed: segmentSeed(options.seed, index),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    };
  });
  const workers: Worker[] = [];
  const latest: Array<DriveTick | undefined> = new Array(count).fill(undefined);
  const onAbort = () => workers.forEach((w) => w.postMessage('abort'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const results = await Promise.all(
      shards.map(
        (shard, index) =>
          new Promise<DriveResult>((resolve, reject) => {
            const worker = startModuleThread(import.meta.url, 'drive-worker', shard);
            workers.push(worker);
            worker.on('message', (message: DriveWorkerMessage) => {
              if (message.type === 'tick') {
                for (const late of message.late) options.onLateSend?.(late);
                latest[index] = message.tick;
                // One progress line for the whole run: shard 0's clock, everyone's counts.
                if (index === 0) options.onTick?.(combineTicks(latest));
              } else if (message.type === 'result') resolve(message.result);
              else reject(new Error(`load worker ${index}: ${message.message}`));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => reject(new Error(`load worker ${index} exited with code ${code} before its result`)));
          }),
      ),
    );
    const window = {
      started_at: Math.min(...results.map((r) => r.window.started_at)),
      ended_at: Math.max(...results.map((r) => r.window.ended_at)),
      warmup_ms: results[0]!.window.warmup_ms,
    };
    return {
      recorded: mergeRecorded(
        results.map((r) => r.recorded),
        { durationMs: window.ended_at - window.started_at },
      ),
      counters: {
        sent: results.reduce((sum, r) => sum + r.counters.sent, 0),
        acknowledged: results.flatMap((r) => r.counters.acknowledged),
        inFlight: 0,
      },
      window,
      interrupted: results.some((r) => r.interrupted),
      connections: results.reduce((sum, r) => sum + r.connections, 0),
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function combineTicks(ticks: Array<DriveTick | undefined>): DriveTick {
  const present = ticks.filter((t): t is DriveTick => t !== undefined);
  const first = present[0]!;
  const p99s = present.map((t) => t.live.p99_ms).filter((v): v is number => v !== null);
  return {
    ...first,
    level: present.reduce((sum, t) => sum + t.level, 0),
    live: {
      ...first.live,
      requests: present.reduce((sum, t) => sum + t.live.requests, 0),
      errors: present.reduce((sum, t) => sum + t.live.errors, 0),
      throttled: present.reduce((sum, t) => sum + t.live.throttled, 0),
      dropped: present.reduce((sum, t) => sum + t.live.dropped, 0),
      rps: present.reduce((sum, t) => sum + t.live.rps, 0),
      // The worst shard's p99: an upper bound, honest for a progress line (the report merges exactly).
      p99_ms: p99s.length > 0 ? Math.max(...p99s) : null,
    },
  };
}
