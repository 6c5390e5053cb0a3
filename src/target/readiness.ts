import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

/** Why a start did not reach readiness; the caller turns it into a user-facing error. */
export type NotReady =
  | { kind: 'exited' }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'bad-line'; line: string };

export class NotReadyError extends Error {
  constructor(readonly reason: NotReady) {
    super(`not ready: ${reason.kind}`);
  }
}

interface Race {
  exited: Promise<unknown>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Runs `ready` against the ways a start can fail: the process exits, the deadline passes, the
 * caller aborts (Ctrl-C). Rejects with NotReadyError; listeners are removed either way.
 */
async function race<T>(options: Race, ready: (stop: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    const fail = (reason: NotReady) => reject(new NotReadyError(reason));
    timer = setTimeout(() => fail({ kind: 'timeout' }), options.timeoutMs);
    onAbort = () => fail({ kind: 'aborted' });
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    void options.exited.then(() => fail({ kind: 'exited' }));
  });
  try {
    return await Promise.race([ready(stop.signal), failure]);
  } finally {
    stop.abort();
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    failure.catch(() => {});
  }
}

/**
 * `govctl serve -o json` prints one JSON line, `{"url", "pid", "data_dir"}`, once it listens. Reads
 * that line, then keeps draining stdout so the child never blocks on a full pipe.
 */
export function waitForListeningLine(stdout: Readable, options: Race): Promise<string> {
  return race(options, (stop) => {
    let buffered = '';
    let seen = false;
    stdout.setEncoding('utf8');
    return new Promise<string>((resolve, reject) => {
      stop.addEventListener('abort', () => reject(new NotReadyError({ kind: 'aborted' })), { once: true });
      stdout.on('data', (chunk: string) => {
        if (seen) return;
        buffered += chunk;
        const newline = buffered.indexOf('\n');
        if (newline < 0) return;
        seen = true;
        const line = buffered.slice(0, newline);
        buffered = '';
        try {
          const url = (JSON.parse(line) as { url?: unknown }).url;
          if (typeof url !== 'string') throw new Error('no url');
          resolve(url);
        } catch {
          reject(new NotReadyError({ kind: 'bad-line', line: line.slice(0, 200) }));
        }
      });
    });
  });
}

/** A foreign server is ready once `healthUrl` answers 2xx; polled every 100 ms. */
export function pollHealth(healthUrl: string, options: Race): Promise<void> {
  return race(options, async (stop) => {
    while (!stop.aborted) {
      try {
        const res = await fetch(healthUrl, { signal: AbortSignal.any([stop, AbortSignal.timeout(2_000)]) });
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // Not listening yet, or not answering yet: try again.
      }
      await delay(100, undefined, { signal: stop }).catch(() => {});
    }
    throw new NotReadyError({ kind: 'aborted' });
  });
}
