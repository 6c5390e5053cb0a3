import { parentPort, workerData } from 'node:worker_threads';
import { buildEngine, scanFilesInOrder, type EngineSpec, type FileScanResult } from './file-scan.js';

/** A scan worker: builds the engine once, then scans batches of files it is sent. */
const engine = await buildEngine(workerData as EngineSpec);

parentPort!.on('message', async (batch: { id: number; files: Array<{ path: string; absPath: string }> }) => {
  const results: FileScanResult[] = [];
  // Said first, so the pool can report that scanning has begun (and tests can interrupt it then).
  parentPort!.postMessage({ started: batch.id });
  await scanFilesInOrder(engine, batch.files, (result) => results.push(result));
  parentPort!.postMessage({ id: batch.id, results });
});
parentPort!.postMessage({ ready: true });
