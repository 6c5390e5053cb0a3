import type { TransferListItem, Worker } from 'node:worker_threads';
import { startModuleThread } from '../../core/thread.js';
import type { CheckpointerData, SnapshotData, WriterData } from './audit-writer-worker.js';

/** A thread running audit-writer-worker in one of its modes. */
function startThread(workerData: WriterData | CheckpointerData | SnapshotData, transferList: TransferListItem[] = []): Worker {
  return startModuleThread(import.meta.url, 'audit-writer-worker', workerData, transferList);
}

export function startWriterThread(data: Omit<WriterData, 'mode'>, transferList: TransferListItem[]): Worker {
  return startThread({ mode: 'writer', ...data }, transferList);
}

export function startCheckpointerThread(data: Omit<CheckpointerData, 'mode'>, transferList: TransferListItem[]): Worker {
  return startThread({ mode: 'checkpointer', ...data }, transferList);
}

/** Copies the database at `path` to `target` (VACUUM INTO) on a thread of its own. */
export function snapshotInThread(path: string, target: string, busyTimeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    let worker: Worker;
    try {
      worker = startThread({ mode: 'snapshot', path, target, busyTimeoutMs });
    } catch (err) {
      reject(err);
      return;
    }
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', (code) => {
      if (failure) reject(failure);
      else if (code !== 0) reject(new Error(`snapshot thread exited with code ${code}`));
      else resolve();
    });
  });
}
