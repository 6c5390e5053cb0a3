/**
 * Summarizes V8 .cpuprofile files (node --cpu-prof): top functions by self time, by inclusive
 * time, and self time by area (package / node internals / govctl / GC / idle).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top 30]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (idle), (program)
    return '(native/builtin)';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `govctl ${url.slice(dist + 1).split('/').slice(0, 3).join('/')}`;
  return shortUrl(url);
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  return frame.url ? `${name}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

function files(arg: string): string[] {
  if (statSync(arg).isDirectory()) {
    return readdirSync(arg)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(arg, f));
  }
  return [arg];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const top = Number(values.top);
if (positionals.length === 0) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top 30]');
  process.exit(2);
}

const self = new Map<string, number>();
const incl = new Map<string, number>();
const byArea = new Map<string, number>();
let total = 0;
let busy = 0;
for (const file of positionals.flatMap(files)) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Inclusive sets per node, computed lazily: the distinct labels on its stack.
  const stackLabels = new Map<number, string[]>();
  const labelsOf = (id: number): string[] => {
    let cached = stackLabels.get(id);
    if (cached) return cached;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur)!;
      if (node.callFrame.functionName === '(root)') continue;
      seen.add(label(node.callFrame));
    }
    cached = [...seen];
    stackLabels.set(id, cached);
    return cached;
  };
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000; // ms
    const node = byId.get(p.samples[i]!)!;
    const l = label(node.callFrame);
    total += dt;
    self.set(l, (self.get(l) ?? 0) + dt);
    const a = area(node.callFrame);
    byArea.set(a, (byArea.get(a) ?? 0) + dt);
    if (node.callFrame.functionName !== '(idle)') {
      busy += dt;
      for (const s of labelsOf(node.id)) incl.set(s, (incl.get(s) ?? 0) + dt);
    }
  }
}

const pct = (ms: number, of: number) => `${((ms / of) * 100).toFixed(1).padStart(5)}%`;
const show = (title: string, m: Map<string, number>, of: number, n: number) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${pct(v, of)} ${v.toFixed(0).padStart(7)} ms  ${k}`);
  }
};
console.log(`profiled ${(total / 1000).toFixed(1)} s, busy (not idle) ${(busy / 1000).toFixed(1)} s (${pct(busy, total).trim()})`);
show('self time by area (% of all samples)', byArea, total, 25);
show(`top ${top} functions by self time (% of busy)`, new Map([...self].filter(([k]) => k !== '(idle)')), busy, top);
show(`top ${top} functions by inclusive time (% of busy)`, incl, busy, top);
