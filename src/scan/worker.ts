import { parentPort, workerData } from 'node:worker_threads';
import { buildEngine, scanFile, type EngineSpec, type FileScanResult } from './file-scan.js';

/** A scan worker: builds the engine once, then scans batches of files it is sent. */
const engine = await buildEngine(workerData as EngineSpec);

parentPort!.on('message', async (batch: { id: number; files: Array<{ path: string; absPath: string }> }) => {
  const results: FileScanResult[] = [];
  for (const file of batch.files) results.push(await scanFile(engine, file));
  parentPort!.postMessage({ id: batch.id, results });
});
parentPort!.postMessage({ ready: true });
