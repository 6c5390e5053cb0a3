/**
 * The load generator against its anchors, on this machine, in one run (issue: govctl load):
 *
 *  1. closed model, 50 connections, against a minimal node:http server (a child process):
 *     govctl's requests/s (full per-endpoint HDR recording on) >= autocannon's; wrk beside both;
 *  2. open model at a fixed rate for 10 minutes (--open-duration): govctl's RSS grows < 20 MB;
 *  3. against `govctl serve`: the reference server, not govctl, is the bottleneck (CPU shares).
 *
 *   npm run bench:load [-- --duration 10s --open-duration 10m --open-rate 2000 --skip-open]
 *
 * wrk comes from Debian (`apt-get install wrk`), autocannon from npm (a devDependency); the bench
 * says which it could not find and carries on without it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sampleProcess } from '../src/target/proc-sample.js';
import { GOVCTL_BIN, killManagedServersSync, startManagedServer, type ManagedServer } from '../src/target/managed-server.js';
import { MINIMAL_SERVER_SCRIPT } from './minimal-server.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    connections: { type: 'string', default: '50' },
    'open-duration': { type: 'string', default: '10m' },
    'open-rate': { type: 'string', default: '2000' },
    'skip-open': { type: 'boolean', default: false },
    'skip-serve': { type: 'boolean', default: false },
  },
});
const DURATION = values.duration;
const SECONDS = Number.parseInt(DURATION, 10) * (DURATION.endsWith('m') ? 60 : 1);
const CONNECTIONS = Number(values.connections);

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
  killManagedServersSync();
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}


async function startMinimalServer(): Promise<ManagedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startManagedServer({ command: { file: process.execPath, args: ['-e', MINIMAL_SERVER_SCRIPT, String(port)], url } });
}

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakRss: number; rss: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const rss: number[] = [];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sampler = setInterval(() => {
      const s = child.pid !== undefined ? sampleProcess(child.pid) : undefined;
      if (s) rss.push(s.rssBytes);
    }, 10_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sampler);
      children.delete(child);
      resolve({ code, stdout, stderr, peakRss: Math.max(0, ...rss), rss });
    });
  });
}

const scenarioDir = await mkdtemp(join(tmpdir(), 'govctl-bench-load-'));
const scenarioFile = join(scenarioDir, 'minimal.json');
await writeFile(
  scenarioFile,
  JSON.stringify({
    name: 'minimal',
    requests: [{ name: 'get', weight: 1, method: 'GET', path: '/', auth: 'none', expect: { status: [200] } }],
  }),
);

async function profileFile(name: string, profile: Record<string, unknown>): Promise<string> {
  const path = join(scenarioDir, `${name}.json`);
  await writeFile(path, JSON.stringify({ name, scenario: scenarioFile, warmup: '2s', keys: 1, ...profile }));
  return path;
}

async function govctlLoad(url: string, profile: string, extra: string[] = []) {
  const result = await run(process.execPath, [GOVCTL_BIN, 'load', '--profile', profile, '--url', url, '--out', join(scenarioDir, 'reports'), '-o', 'json', '--quiet', ...extra]);
  if (result.code !== 0 && result.code !== 1) throw new Error(`govctl load exited ${result.code}: ${result.stderr}`);
  const report = JSON.parse(result.stdout) as {
    report: string;
    totals: { throughput_rps: number; requests: number; errors: number; dropped: number; latency_ms: { p99: number } };
    generator: { bottleneck: boolean; reasons: string[]; client_cpu_pct_max: number };
    resources: { client: Array<{ cpu_pct: number; rss_bytes: number }>; target: { status: string; samples?: Array<{ cpu_pct: number }> } };
  };
  return { ...result, report };
}

const rows: Array<[string, string, string]> = [];
try {
  console.log(`node ${process.version}; closed model: ${CONNECTIONS} connections, ${DURATION} each, one after another`);
  const server = await startMinimalServer();
  try {
    const wrk = existsSync('/usr/bin/wrk') ? spawnSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${DURATION}`, server.url + '/'], { encoding: 'utf8' }) : undefined;
    const wrkRps = wrk ? Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1] ?? NaN) : NaN;
    if (!wrk) console.log('wrk not found (apt-get install wrk): its column is empty');
    const cannonBin = join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon');
    const cannon = existsSync(cannonBin) ? await run(cannonBin, ['-c', String(CONNECTIONS), '-d', String(SECONDS), '--json', server.url + '/']) : undefined;
    const cannonRps = cannon ? (JSON.parse(cannon.stdout) as { requests: { average: number }; requests_total?: number }).requests.average : NaN;
    if (!cannon) console.log('autocannon not found (npm ci installs it): its column is empty');
    const closed = await profileFile('closed', { model: 'closed', stages: [{ duration: DURATION, vus: CONNECTIONS }] });
    const ours = await govctlLoad(server.url, closed);
    const rps = ours.report.totals.throughput_rps;
    console.log(`wrk -t2 -c${CONNECTIONS}:        ${wrkRps.toFixed(0)} req/s`);
    console.log(`autocannon -c${CONNECTIONS}:      ${cannonRps.toFixed(0)} req/s`);
    console.log(`govctl load (closed, ${CONNECTIONS} VUs, HDR per endpoint): ${rps.toFixed(0)} req/s, p99 ${ours.report.totals.latency_ms.p99.toFixed(2)} ms, errors ${ours.report.totals.errors}, generator bottleneck: ${ours.report.generator.bottleneck}`);
    console.log(`ratios: govctl/autocannon ${(rps / cannonRps).toFixed(2)}, govctl/wrk ${(rps / wrkRps).toFixed(2)}`);
    rows.push(['closed req/s >= autocannon', `${rps.toFixed(0)} vs ${cannonRps.toFixed(0)}`, rps >= cannonRps ? 'PASS' : 'FAIL']);

    if (!values['skip-open']) {
      const rate = Number(values['open-rate']);
      const open = await profileFile('open', { model: 'open', max_vus: CONNECTIONS, stages: [{ duration: values['open-duration'], rate }] });
      console.log(`open model: ${rate}/s for ${values['open-duration']} (govctl's RSS sampled every 10 s)...`);
      const openRun = await govctlLoad(server.url, open);
      const rss = openRun.rss;
      // From the first sample after the warm-up (10 s in) to the highest later one: what the
      // run itself added, counted at its worst moment, not its last.
      const base = rss.length > 1 ? rss[1]! : rss[0]!;
      const growth = rss.length >= 2 ? (Math.max(...rss.slice(1)) - base) / 2 ** 20 : NaN;
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      console.log(`open: ${openRun.report.totals.requests} requests, ${openRun.report.totals.throughput_rps.toFixed(0)} req/s, dropped ${openRun.report.totals.dropped}; RSS at 10 s ${mib(base)} MiB, highest after ${mib(Math.max(...rss.slice(1)))}, last ${mib(rss.at(-1)!)} (${rss.length} samples); growth ${growth.toFixed(1)} MiB`);
      rows.push(['open model RSS growth < 20 MB', `${growth.toFixed(1)} MiB`, growth < 20 ? 'PASS' : 'FAIL']);
    }
  } finally {
    await server.dispose();
  }

  if (!values['skip-serve']) {
    console.log(`against govctl serve (embedded, sync full): closed ${CONNECTIONS} VUs for ${DURATION}...`);
    const serveProfile = await profileFile('serve', { model: 'closed', keys: 20, scenario: 'governance-mix', embedded: { rate_limit: '100000000/1s' }, stages: [{ duration: DURATION, vus: CONNECTIONS }] });
    const env = { ...process.env };
    delete env.GOVCTL_URL;
    delete env.GOVCTL_CONTEXT;
    const result = await run(process.execPath, [GOVCTL_BIN, 'load', '--profile', serveProfile, '--embedded', '--out', join(scenarioDir, 'reports'), '-o', 'json', '--quiet']);
    const report = JSON.parse(result.stdout) as Awaited<ReturnType<typeof govctlLoad>>['report'];
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const clientCpu = mean(report.resources.client.map((s) => s.cpu_pct));
    const serverCpu = report.resources.target.status === 'measured' ? mean(report.resources.target.samples!.map((s) => s.cpu_pct)) : NaN;
    console.log(`serve: ${report.totals.throughput_rps.toFixed(0)} decisions/s, p99 ${report.totals.latency_ms.p99.toFixed(2)} ms, errors ${report.totals.errors}; CPU: server ${serverCpu.toFixed(0)}% of a core, govctl ${clientCpu.toFixed(0)}% (govctl's share ${((100 * clientCpu) / (clientCpu + serverCpu)).toFixed(0)}%)`);
    const ok = serverCpu > clientCpu && !report.generator.bottleneck;
    rows.push(['server is the bottleneck (CPU)', `server ${serverCpu.toFixed(0)}%, govctl ${clientCpu.toFixed(0)}%`, ok ? 'PASS' : 'FAIL']);
  }
} finally {
  await rm(scenarioDir, { recursive: true, force: true });
}

console.log('\n== targets');
for (const [metric, measured, result] of rows) console.log(`${metric.padEnd(34)} ${measured.padEnd(28)} ${result}`);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
await writeFile(join(import.meta.dirname, '..', 'reports', `bench-load-${stamp}.json`), JSON.stringify({ rows }, null, 2)).catch(() => undefined);
