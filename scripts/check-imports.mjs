#!/usr/bin/env node
// Enforces DESIGN.md's import rules over src/ (run by `npm test`): no import cycles; a
// capability never imports cli/; server/ imports only core/ (it must run alone); nothing but
// cli/commands/serve*.ts imports server/. Type-only imports are ignored (erased at build).
import { relative } from 'node:path';
import { parseCircular, parseDependencyTree } from 'dpdm';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
// Ids come back relative to `context` (src/cli/main.ts); packages resolve into node_modules/.
const tree = await parseDependencyTree('src/**/*.ts', { context: root, transform: true });
const rel = (p) => relative(root, p);
const problems = [];

for (const cycle of parseCircular(tree)) problems.push(`import cycle: ${cycle.map(rel).join(' -> ')} -> ${rel(cycle[0])}`);

const area = (file) => rel(file).split('/')[1];
for (const [file, deps] of Object.entries(tree)) {
  const from = rel(file);
  for (const dep of deps ?? []) {
    if (!dep.id || !rel(dep.id).startsWith('src/')) continue; // a package or a builtin
    const to = rel(dep.id);
    const fromArea = area(file);
    const toArea = area(dep.id);
    if (fromArea !== 'cli' && toArea === 'cli') problems.push(`${from} imports ${to}: only cli/ may import cli/`);
    if (fromArea === 'server' && toArea !== 'server' && toArea !== 'core') problems.push(`${from} imports ${to}: server/ imports only core/`);
    if (toArea === 'server' && fromArea !== 'server' && !/^src\/cli\/commands\/serve(-run)?\.ts$/.test(from)) {
      problems.push(`${from} imports ${to}: only cli/commands/serve*.ts may import server/`);
    }
  }
}

if (problems.length > 0) {
  console.error(`import rules (DESIGN.md) broken:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`import rules: ${Object.keys(tree).filter((f) => rel(f).startsWith('src/')).length} files, no cycles, layers respected`);
