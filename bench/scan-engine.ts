/**
 * Single-threaded throughput of the secrets engine on generated source-like text.
 *
 *   node --import tsx bench/scan-engine.ts [--mb 50] [--runs 3] [--dir PATH]
 *
 * Generates ~50 MB of JS/TS/Python/Go/YAML/Markdown-like files in memory (a fixed seed; words
 * like key, token, password and auth appear as they do in real code), plants synthetic secrets of
 * several formats, scans every file with the built-in rules and prints MB/s and how many planted
 * secrets were found. Nothing here is a real credential: every value is random.
 * With --dir, also times the same engine over the real text files under PATH (read into memory
 * first, e.g. node_modules) as a second, non-synthetic figure.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSecretRules } from '../src/scan/rules/secret-rules.js';
import { createSecretsEngine } from '../src/scan/secrets/engine.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const targetBytes = Number(values.mb) * 1024 * 1024;
const runs = Number(values.runs);

// mulberry32: a small deterministic PRNG.
let seed = 0x5eed1234;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chars = (alphabet: string, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
};
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

const WORDS = [
  'user', 'account', 'request', 'response', 'handler', 'config', 'options', 'value', 'result',
  'error', 'message', 'policy', 'decision', 'score', 'risk', 'limit', 'rate', 'window', 'cache',
  'client', 'server', 'session', 'token', 'key', 'auth', 'password', 'secret', 'item', 'list',
  'index', 'count', 'total', 'name', 'path', 'file', 'buffer', 'stream', 'event', 'state',
  'context', 'logger', 'metrics', 'status', 'headers', 'body', 'query', 'params', 'payload',
  'timestamp', 'duration', 'retry', 'backoff', 'queue', 'worker', 'task', 'job', 'batch', 'store',
  'record', 'entry', 'table', 'schema', 'model', 'provider', 'service', 'router', 'route', 'mask',
  'access', 'stack', 'back', 'each', 'interface', 'package', 'trace', 'admin', 'audit', 'desk',
];
const ENGLISH = [
  'the', 'a', 'of', 'to', 'and', 'is', 'in', 'for', 'this', 'that', 'when', 'with', 'returns',
  'value', 'if', 'not', 'be', 'we', 'it', 'on', 'are', 'both', 'each', 'key', 'so', 'as', 'by',
  'should', 'request', 'only', 'once', 'after', 'before', 'called', 'task', 'ask', 'risk', 'token',
];
const ident = (): string => {
  const n = 1 + Math.floor(rand() * 3);
  const parts = Array.from({ length: n }, () => pick(WORDS));
  return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
};
const snake = (): string => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(WORDS)).join('_');
const sentence = (): string => Array.from({ length: 4 + Math.floor(rand() * 10) }, () => pick(ENGLISH)).join(' ');

const JS_LINES: Array<() => string> = [
  () => `  const ${ident()} = await ${ident()}.${ident()}(${ident()}, { ${ident()}: ${Math.floor(rand() * 1000)} });`,
  () => `  if (!${ident()}.${ident()}) throw new Error('${sentence()}');`,
  () => `  // ${sentence()}`,
  () => `  return ${ident()}.map((${ident()}) => ${ident()}.${ident()} * ${Math.floor(rand() * 100)});`,
  () => `import { ${ident()}, ${ident()} } from './${snake()}.js';`,
  () => `export function ${ident()}(${ident()}: string, ${ident()}: number): ${pick(['string', 'number', 'boolean', 'void'])} {`,
  () => `  }`,
  () => `    ${ident()}.${ident()}[${ident()}] = ${ident()}.${ident()} ?? '${pick(WORDS)}';`,
  () => `  for (const ${ident()} of ${ident()}) ${ident()}.push(${ident()});`,
  () => `  const headers = { 'content-type': 'application/json', authorization: \`Bearer \${${ident()}}\` };`,
  () => `  const ${ident()}Key = process.env.${snake().toUpperCase()}_KEY;`,
  () => `  logger.info({ ${ident()}, ${ident()} }, '${sentence()}');`,
  () => `  const url = \`https://api.${pick(WORDS)}.internal/v1/${pick(WORDS)}/\${${ident()}}\`;`,
];
const PY_LINES: Array<() => string> = [
  () => `    ${snake()} = ${snake()}.${snake()}(${snake()}, ${snake()}=${Math.floor(rand() * 100)})`,
  () => `def ${snake()}(self, ${snake()}, ${snake()}=None):`,
  () => `    # ${sentence()}`,
  () => `    if ${snake()} is None:`,
  () => `        raise ValueError("${sentence()}")`,
  () => `    return {"${snake()}": ${snake()}, "${snake()}": ${Math.floor(rand() * 1e6)}}`,
  () => `from ${snake()}.${snake()} import ${snake()}`,
  () => `    password = os.environ["${snake().toUpperCase()}_PASSWORD"]`,
  () => `    for ${snake()} in ${snake()}:`,
];
const GO_LINES: Array<() => string> = [
  () => `\t${ident()} := ${ident()}.${ident()}(ctx, ${ident()})`,
  () => `\tif err != nil {`,
  () => `\t\treturn nil, fmt.Errorf("${sentence()}: %w", err)`,
  () => `func (s *${ident()}) ${ident()}(ctx context.Context, ${ident()} string) error {`,
  () => `\t// ${sentence()}`,
];
const YAML_LINES: Array<() => string> = [
  () => `  ${snake()}: ${pick(WORDS)}`,
  () => `    ${snake()}: ${Math.floor(rand() * 1000)}`,
  () => `  - name: ${snake()}`,
  () => `    image: registry.internal/${pick(WORDS)}:${Math.floor(rand() * 10)}.${Math.floor(rand() * 10)}`,
  () => `    token: \${{ secrets.${snake().toUpperCase()} }}`,
];
const MD_LINES: Array<() => string> = [
  () => sentence().replace(/^./, (c) => c.toUpperCase()) + '.',
  () => `- ${sentence()}`,
  () => `## ${pick(WORDS)} ${pick(WORDS)}`,
  () => '',
];
const LANGS = [JS_LINES, JS_LINES, PY_LINES, GO_LINES, YAML_LINES, MD_LINES];

// Planted secrets: random values in real formats, one every ~40 KB.
const PLANTS: Array<() => { line: string; value: string }> = [
  () => { const v = 'AKIA' + chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16); return { line: `aws_access_key_id = ${v}`, value: v }; },
  () => { const v = 'gh' + 'p_' + chars(B62, 36); return { line: `  const token = "${v}";`, value: v }; },
  () => { const v = 'xox' + 'b-' + chars('0123456789', 11) + '-' + chars('0123456789', 12) + '-' + chars(B62, 24); return { line: `SLACK_BOT_TOKEN=${v}`, value: v }; },
  () => { const v = 'sk_' + 'live_' + chars(B62, 32); return { line: `stripe.api_key = '${v}'`, value: v }; },
  () => { const v = 'npm_' + chars(B62, 36); return { line: `//registry.npmjs.org/:_authToken=${v}`, value: v }; },
  () => { const v = `${chars(HEX, 8)}-${chars(HEX, 4)}-4${chars(HEX, 3)}-${pick(['8', '9', 'a', 'b'])}${chars(HEX, 3)}-${chars(HEX, 12)}` + '.' + chars(B62 + '-_', 43); return { line: `GOVCTL_TOKEN="${v}"`, value: v }; },
  () => { const v = chars(B62, 24) + '!' + chars(HEX, 8); return { line: `    db_password: "${v}"`, value: v }; },
];

function generate(): { files: Array<{ path: string; text: string }>; planted: string[]; bytes: number } {
  const files: Array<{ path: string; text: string }> = [];
  const planted: string[] = [];
  let bytes = 0;
  let sincePlant = 0;
  let n = 0;
  while (bytes < targetBytes) {
    const lang = pick(LANGS);
    const ext = lang === JS_LINES ? 'ts' : lang === PY_LINES ? 'py' : lang === GO_LINES ? 'go' : lang === YAML_LINES ? 'yaml' : 'md';
    const lines: string[] = [];
    const count = 50 + Math.floor(rand() * 600);
    for (let i = 0; i < count; i++) {
      const line = pick(lang)();
      lines.push(line);
      sincePlant += line.length + 1;
      if (sincePlant > 40_000) {
        sincePlant = 0;
        const p = pick(PLANTS)();
        lines.push(p.line);
        planted.push(p.value);
      }
    }
    const text = lines.join('\n') + '\n';
    files.push({ path: `src/mod${n++}.${ext}`, text });
    bytes += text.length;
  }
  return { files, planted, bytes };
}

const t0 = performance.now();
const corpus = generate();
const genMs = performance.now() - t0;
const rules = await loadSecretRules();
const engine = createSecretsEngine(rules);
const mb = corpus.bytes / 1024 / 1024;
console.log(`corpus: ${corpus.files.length} files, ${mb.toFixed(1)} MB, ${corpus.planted.length} planted secrets (generated in ${(genMs / 1000).toFixed(1)} s); ${rules.rules.length} rules`);

let best = Infinity;
let found = new Set<string>();
let findings = 0;
for (let run = 0; run < runs; run++) {
  const start = performance.now();
  const values = new Set<string>();
  let total = 0;
  for (const file of corpus.files) {
    for (const m of engine.scan(file.text, file.path)) {
      values.add(m.value);
      total++;
    }
  }
  const ms = performance.now() - start;
  best = Math.min(best, ms);
  found = values;
  findings = total;
  console.log(`run ${run + 1}: ${(ms / 1000).toFixed(2)} s, ${(mb / (ms / 1000)).toFixed(1)} MB/s`);
}
const recalled = corpus.planted.filter((v) => found.has(v)).length;
console.log(`best: ${(mb / (best / 1000)).toFixed(1)} MB/s single-threaded; planted found ${recalled}/${corpus.planted.length}; findings ${findings} (extra ${findings - recalled})`);

if (values.dir !== undefined) {
  const files: Array<{ path: string; text: string }> = [];
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (bytes >= targetBytes) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git') walk(path);
      } else if (entry.isFile() && statSync(path).size <= 2_000_000) {
        const buf = readFileSync(path);
        if (buf.subarray(0, 8000).includes(0)) continue; // binary
        const text = buf.toString('utf8');
        files.push({ path, text });
        bytes += text.length;
      }
    }
  };
  walk(values.dir);
  const realMb = bytes / 1024 / 1024;
  let bestReal = Infinity;
  let count = 0;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    count = 0;
    for (const file of files) count += engine.scan(file.text, file.path).length;
    bestReal = Math.min(bestReal, performance.now() - start);
  }
  console.log(`${values.dir}: ${files.length} files, ${realMb.toFixed(1)} MB, best ${(realMb / (bestReal / 1000)).toFixed(1)} MB/s single-threaded, ${count} findings`);
}
