import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';

/**
 * Starts a worker thread running the module `name` beside `base` (an import.meta.url). Built, it
 * is the .js file tsc emitted into dist/. Run from the .ts sources (vitest, tsx), Node cannot load
 * the .ts entry by itself, and a worker does not inherit `--import tsx`: a small bootstrap
 * registers tsx's loader in the thread and then imports the .ts entry.
 */
export function startModuleThread(base: string, name: string, workerData: unknown, transferList: TransferListItem[] = []): Worker {
  const built = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData, transferList });
  const source = new URL(`./${name}.ts`, base);
  if (!existsSync(fileURLToPath(source))) throw new Error(`thread entry ${name} not found beside ${fileURLToPath(base)}`);
  const bootstrap =
    `import(${JSON.stringify(tsxEsmApi())})` +
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
