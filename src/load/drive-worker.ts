import { parentPort, workerData } from 'node:worker_threads';
import { drive, type DriveOptions } from './drive.js';

/** What the parent sends a load worker: the drive options without functions or a signal. */
export type DriveWorkerData = Omit<DriveOptions, 'signal' | 'onTick' | 'onLateSend' | 'url'> & { url: string };

export type DriveWorkerMessage =
  | { type: 'tick'; tick: Parameters<NonNullable<DriveOptions['onTick']>>[0]; late: number[] }
  | { type: 'result'; result: Awaited<ReturnType<typeof drive>> }
  | { type: 'error'; message: string };

// One shard of a run in a thread of its own: ticks and late sends go to the parent, an 'abort'
// message is Ctrl-C, and the result (plain data: encoded histograms, counters) comes back whole.
const data = workerData as DriveWorkerData;
const controller = new AbortController();
const port = parentPort!;
port.on('message', (message: unknown) => {
  if (message === 'abort') controller.abort();
});
let late: number[] = [];
drive({
  ...data,
  url: new URL(data.url),
  signal: controller.signal,
  onLateSend: (ms) => late.push(ms),
  onTick: (tick) => {
    port.postMessage({ type: 'tick', tick, late } satisfies DriveWorkerMessage);
    late = [];
  },
}).then(
  (result) => {
    port.postMessage({ type: 'result', result } satisfies DriveWorkerMessage);
    port.close();
  },
  (err: unknown) => {
    port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies DriveWorkerMessage);
    port.close();
  },
);
