import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { CheckpointerData, SnapshotData, WriterData } from './audit-writer-worker.js';

/**
 * Starts a thread running audit-writer-worker. Built, it is the .js file beside this module (tsc
 * emits both into dist/). Run from the .ts sources (vitest, tsx), Node cannot load the .ts entry
 * by itself, and a worker does not inherit `--import tsx`: a small bootstrap registers tsx's
 * loader in the thread and then imports the .ts entry.
 */
function startThread(workerData: WriterData | CheckpointerData | SnapshotData, transferList: TransferListItem[] = []): Worker {
  const built = new URL('./audit-writer-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData, transferList });
  const source = new URL('./audit-writer-worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source))) throw new Error(`audit writer thread entry not found beside ${fileURLToPath(import.meta.url)}`);
  const tsx = tsxEsmApi();
  const bootstrap =
    `import(${JSON.stringify(tsx)})` +
    `.then((api) => api.register())` +
    `.then(() => import(${JSON.stringify(source.href)}))`;
  return new Worker(bootstrap, { eval: true, workerData, transferList });
}

/** tsx's ESM register API (its CommonJS twin cannot register hooks from inside a worker). */
function tsxEsmApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const entry = pkg.exports['./esm/api']?.import?.default;
  if (!entry) throw new Error('tsx has no ESM register API (./esm/api)');
  return pathToFileURL(join(dirname(manifest), entry)).href;
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
