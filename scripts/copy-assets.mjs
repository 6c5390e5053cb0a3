#!/usr/bin/env node
// Copies the JSON data files under src/ (rule sets, schemas) to the same paths under dist/:
// `tsc` compiles only .ts, and modules read their data relative to import.meta.url, so
// src/scan/rules/secrets.json must also exist as dist/scan/rules/secrets.json.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

let copied = 0;
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.isFile() && entry.name.endsWith('.json')) {
      const target = join(dist, relative(src, path));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
      copied++;
    }
  }
}
walk(src);
// Thread entries are loaded by path at run time, not imported: a build without them would only
// fail at the first decision. tsc emits them; make sure it did.
for (const entry of ['server/store/audit-writer-worker.js', 'load/drive-worker.js']) {
  if (!existsSync(join(dist, entry))) {
    console.error(`copy-assets: dist/${entry} is missing (the server's writer thread entry); did tsc emit it?`);
    process.exit(1);
  }
}
if (process.argv.includes('--verbose')) console.log(`copied ${copied} JSON asset(s) to dist/`);
