import { sampleHolds, type Sample } from './types.js';

/**
 * Waits for runs of consecutive holding samples, fed by the sampler's onSample: the runner owns
 * the stream of samples, so "N in a row" never depends on how often a predicate is re-evaluated.
 */
export class SteadyStateWatch {
  private waiters = new Set<(sample: Sample) => void>();

  /** Feed every sample, in order. */
  push(sample: Sample): void {
    for (const waiter of [...this.waiters]) waiter(sample);
  }

  /**
   * Resolves with the first sample of the first run of `count` consecutive holding samples taken
   * at or after `since`; undefined when `timeoutMs` passes (or `signal` aborts) first.
   */
  waitForRun(count: number, since: number, timeoutMs: number, signal?: AbortSignal): Promise<Sample | undefined> {
    return new Promise((resolve) => {
      let run: Sample[] = [];
      const finish = (value: Sample | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        resolve(value);
      };
      const waiter = (sample: Sample) => {
        if (sample.t < since) return;
        run = sampleHolds(sample) ? [...run, sample] : [];
        if (run.length >= count) finish(run[0]);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), Math.max(0, timeoutMs));
      if (signal?.aborted) return finish(undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (signal?.aborted) return done();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `task`, but never longer than `ms`: resolves to `onLate` (a rollback must not hold the exit forever). */
export async function bounded<T>(task: Promise<T>, ms: number, onLate: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onLate), ms);
  });
  try {
    return await Promise.race([task, late]);
  } finally {
    clearTimeout(timer);
  }
}
