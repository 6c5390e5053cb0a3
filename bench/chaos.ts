/**
 * govctl chaos against its targets, on this machine, in one run (issue: govctl chaos):
 *
 *  1. restart-to-healthy of the reference server (a managed `govctl serve --sync full`) under
 *     background traffic, --trials times (default 20): the runner's own restart probe, each trial a
 *     whole experiment (steady state, SIGKILL, restart on the same data dir and port, samples until
 *     healthy, the usage-log accounting). Targets: median and max recovery < 1 s; 0 acknowledged
 *     decisions lost in all trials;
 *  2. the fault proxy's added latency with no toxic (bench/chaos-proxy.ts, run as a child).
 *
 *   npm run bench:chaos [-- --trials 20 --interval 50ms --traffic-rate 50 --skip-proxy]
 *
 * The dist/ server is what runs (npm run build first; the script does). The machine may be
 * shared: the load average is printed beside the figures.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runChaos } from '../src/chaos/runner.js';
import type { ChaosTarget, ProbeJournal } from '../src/chaos/types.js';
import { GovernanceClient } from '../src/client/governance-client.js';
import { parsePositiveDuration } from '../src/core/duration.js';
import { newRunId } from '../src/core/report.js';
import { killManagedServersSync, startManagedServer } from '../src/target/managed-server.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    interval: { type: 'string', default: '50ms' },
    'traffic-rate': { type: 'string', default: '50' },
    'healthy-samples': { type: 'string', default: '5' },
    'skip-proxy': { type: 'boolean', default: false },
  },
});
const TRIALS = Number(values.trials);
const INTERVAL_MS = parsePositiveDuration(values.interval, '--interval');
const TRAFFIC_RATE = Number(values['traffic-rate']);
const HEALTHY = Number(values['healthy-samples']);

process.once('exit', () => killManagedServersSync());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killManagedServersSync();
    process.exit(130);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (s: number) => (Number.isFinite(s) ? `${(s * 1000).toFixed(0)} ms` : 'n/a');

const rows: Array<[string, string, string]> = [];
const trials: Array<Pick<ProbeJournal, 'status' | 'recovery_s' | 'detection_s' | 'records' | 'reasons'>> = [];
console.log(`node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (the machine may be shared)`);
console.log(`restart probe: ${TRIALS} trials against govctl serve --sync full, samples every ${INTERVAL_MS} ms, ${HEALTHY} healthy samples make a recovery, traffic ${TRAFFIC_RATE}/s`);

const server = await startManagedServer({
  env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
  serveArgs: ['--sync', 'full', '--rate-limit', '1000000/1s'],
});
const clients: GovernanceClient[] = [];
const coldStarts: number[] = [];
try {
  const target: ChaosTarget = { url: server.url, kind: 'managed', adminKey: server.adminKey!, server, dataDir: server.dataDir! };
  const controller = new AbortController();
  const clientFor = async (url: string, bound: boolean) => {
    const client = new GovernanceClient({ baseUrl: url, timeoutMs: 10_000, adminKey: server.adminKey!, ...(bound ? { signal: controller.signal } : {}) });
    clients.push(client);
    return client;
  };
  for (let i = 0; i < TRIALS; i++) {
    const report = await runChaos({
      runId: newRunId(),
      target: { ...target, url: server.url },
      probes: ['restart'],
      probeOptions: {
        intervalMs: INTERVAL_MS,
        budgetMs: 60_000,
        healthySamples: HEALTHY,
        faultDurationMs: 0,
        allowRemote: false,
        maxBallastBytes: 0,
        keepFreeBytes: 0,
        signalName: 'SIGKILL',
        toxics: [],
      },
      trafficRate: TRAFFIC_RATE,
      clientFor,
      signal: controller.signal,
      onEvent: (e) => (e.type === 'warning' ? console.log(`  warning: ${e.message}`) : undefined),
    });
    const j = report.data.probes[0]!;
    trials.push({ status: j.status, recovery_s: j.recovery_s, detection_s: j.detection_s, records: j.records, reasons: j.reasons });
    const records = j.records.status === 'measured' ? `${j.records.acknowledged} acknowledged before the kill, ${j.records.lost} lost` : `records not measured: ${j.records.reason}`;
    console.log(`trial ${String(i + 1).padStart(2)}: ${j.status}, recovery ${j.recovery_s === null ? 'never' : fmt(j.recovery_s)}, ${records}${j.reasons.length ? ` (${j.reasons.join('; ')})` : ''}`);
    await Promise.all(clients.splice(0).map((c) => c.close()));
  }
  // The floor under any recovery: the server's own cold start (SIGKILL, then restart to its
  // listening line), with no traffic, samples or accounting. Recovery minus this is govctl's share.
  for (let i = 0; i < TRIALS; i++) {
    server.kill('SIGKILL');
    await server.exited;
    const started = performance.now();
    await server.restart();
    coldStarts.push((performance.now() - started) / 1000);
  }
} finally {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.dispose('SIGTERM', 5_000);
}
console.log(`bare restart to listening (no traffic, no samples), ${coldStarts.length} times: median ${fmt(median(coldStarts))}, max ${fmt(Math.max(...coldStarts))}`);

const recoveries = trials.map((t) => t.recovery_s).filter((r): r is number => r !== null);
const never = trials.length - recoveries.length;
const med = median(recoveries);
const max = never > 0 ? Infinity : Math.max(...recoveries);
const measured = trials.filter((t) => t.records.status === 'measured');
const lost = measured.reduce((sum, t) => sum + (t.records.status === 'measured' ? t.records.lost : 0), 0);
const acknowledged = measured.reduce((sum, t) => sum + (t.records.status === 'measured' ? t.records.acknowledged : 0), 0);
console.log(`recovery over ${trials.length} trials: median ${fmt(med)}, max ${never > 0 ? `never (${never} trials)` : fmt(max)}; min ${fmt(Math.min(...recoveries))}`);
rows.push(['restart recovery median < 1 s', fmt(med), med < 1 ? 'PASS' : 'FAIL']);
rows.push(['restart recovery max < 1 s', never > 0 ? `${never} never recovered` : fmt(max), max < 1 ? 'PASS' : 'FAIL']);
rows.push(['server cold start (reference)', `median ${fmt(median(coldStarts))}, max ${fmt(Math.max(...coldStarts))}`, 'INFO']);
rows.push([
  'acknowledged decisions lost = 0',
  `${lost} of ${acknowledged} (${measured.length}/${trials.length} trials measured)`,
  lost === 0 && measured.length === trials.length ? 'PASS' : 'FAIL',
]);

if (!values['skip-proxy']) {
  const proxyBench = join(import.meta.dirname, 'chaos-proxy.ts');
  if (!existsSync(proxyBench)) {
    console.log('bench/chaos-proxy.ts not found: the proxy latency is not measured');
    rows.push(['proxy added latency p99 < 1 ms', 'not measured', 'SKIP']);
  } else {
    console.log('\n== the fault proxy, no toxic (bench/chaos-proxy.ts)');
    const output = await runChild(process.execPath, ['--import', 'tsx', proxyBench]);
    process.stdout.write(output.stdout);
    // Its last line carries the figure and the verdict: "added latency at p99: 0.123 ms (target < 1 ms): PASS".
    const match = /added latency at p99: (-?[\d.]+) ms.*(PASS|FAIL)/.exec(output.stdout);
    rows.push(['proxy added latency p99 < 1 ms', match ? `${match[1]} ms` : `not found in its output (exit ${output.code})`, match ? match[2]! : '?']);
  }
}

console.log(`\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('\n== targets');
for (const [metric, measuredText, result] of rows) console.log(`${metric.padEnd(34)} ${measuredText.padEnd(44)} ${result}`);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
await writeFile(join(import.meta.dirname, '..', 'reports', `bench-chaos-${stamp}.json`), JSON.stringify({ loadavg: loadavg(), interval_ms: INTERVAL_MS, trials, cold_starts_s: coldStarts, rows }, null, 2)).catch(() => undefined);

function runChild(file: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}
