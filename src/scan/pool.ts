import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildEngine, scanFilesInOrder, type EngineSpec, type FileScanResult } from './file-scan.js';
import type { WalkedFile } from './walker.js';

/** Aim for batches of about this many bytes: big enough to amortise messaging, small enough to balance. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 256;

export interface PoolOptions {
  /** Worker threads; 0 scans in this thread. Default: one per core. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** A worker began scanning a batch of this many files. */
  onBatchStarted?: (files: number) => void;
}

function batches(files: WalkedFile[]): WalkedFile[][] {
  const out: WalkedFile[][] = [];
  let current: WalkedFile[] = [];
  let bytes = 0;
  for (const file of files) {
    current.push(file);
    bytes += file.size;
    if (bytes >= BATCH_BYTES || current.length >= BATCH_FILES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The compiled worker, when running from dist/; under a TypeScript runner there is none. */
function workerUrl(): URL | undefined {
  const url = new URL('./worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * Below this much text, scanning takes a few tens of milliseconds: this thread does it rather
 * than pay for a worker's start. Above, even one file goes to a worker, because a scan in this
 * thread cannot be interrupted until the file is done, and a worker can be terminated at once.
 */
const IN_THREAD_MAX_BYTES = 1024 * 1024;

/** Scans files on worker threads (one per core), or in this thread when that is asked, small or not possible. */
export async function scanFiles(spec: EngineSpec, files: WalkedFile[], options: PoolOptions = {}): Promise<FileScanResult[]> {
  const url = workerUrl();
  const wanted = options.workers ?? availableParallelism();
  const work = batches(files);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const count = url === undefined || wanted === 0 ? 0 : Math.min(wanted, work.length);
  if (count === 0 || (count === 1 && totalBytes < IN_THREAD_MAX_BYTES)) {
    const engine = await buildEngine(spec);
    const results: FileScanResult[] = [];
    await scanFilesInOrder(
      engine,
      files,
      (result) => {
        results.push(result);
        options.onProgress?.(results.length, files.length);
      },
      options.signal,
    );
    return results;
  }

  const results: FileScanResult[] = [];
  let next = 0;
  let done = 0;
  const signal = options.signal;
  if (signal?.aborted) return results;
  const workers = Array.from({ length: count }, () => new Worker(url!, { workerData: spec }));
  // Ctrl-C: stop waiting at once; the finally terminates the workers mid-file. The results of the
  // batches that finished are kept (a partial result).
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const all = Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= work.length || options.signal?.aborted) return resolve();
              const id = next++;
              worker.postMessage({ id, files: work[id]!.map((f) => ({ path: f.path, absPath: f.absPath })) });
            };
            worker.on('message', (message: { ready?: boolean; started?: number; results?: FileScanResult[] }) => {
              if (message.started !== undefined) {
                options.onBatchStarted?.(work[message.started]!.length);
                return;
              }
              if (message.results) {
                results.push(...message.results);
                done += message.results.length;
                options.onProgress?.(done, files.length);
              }
              feed();
            });
            worker.once('error', reject);
            worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scan worker exited with code ${code}`))));
          }),
      ),
    );
    // After an abort nobody awaits `all`; a worker's exit must not become an unhandled rejection.
    all.catch(() => {});
    await Promise.race([all, aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
