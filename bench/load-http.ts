/**
 * Micro-benchmark of the load engine's request path alone (src/load/http/connection.ts): N lean
 * keep-alive connections in a closed loop against a minimal node:http server in a child process,
 * then autocannon and wrk against the same server with the same connection count and duration.
 *
 *   node --import tsx bench/load-http.ts [-d 10] [-c 50] [--warmup 2] [--record] [--only govctl,autocannon,wrk]
 *
 * Prints requests/s of each, the CPU each generator spent per request (microseconds: the figure
 * that matters on a machine whose cores the target shares), and govctl's ratio to the others. `--record` records every latency
 * in an HDR histogram (as the engine does) to show what recording costs. The target shares the
 * machine's cores with the load generator, so the figures are relative, not absolute.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { createConnection } from '../src/load/http/connection.js';
import { serializeRequest } from '../src/load/http/request-bytes.js';
import { startMinimalServer, stopMinimalServer } from './minimal-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');


const { values } = parseArgs({
  options: {
    duration: { type: 'string', short: 'd', default: '10' },
    connections: { type: 'string', short: 'c', default: '50' },
    warmup: { type: 'string', default: '2' },
    record: { type: 'boolean', default: false },
    only: { type: 'string', default: 'govctl,autocannon,wrk' },
  },
});
const durationS = Number(values.duration);
const connections = Number(values.connections);
const warmupS = Number(values.warmup);
const tools = new Set(values.only.split(','));


/** CPU seconds of reaped child processes (autocannon, wrk), from /proc/self/stat (Linux only). */
function childCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 (cutime, cstime) in clock ticks; after the "(comm)" they are at 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

interface Figure {
  rps: number;
  /** CPU microseconds the generator spent per completed request. */
  cpuUsPerRequest?: number;
}

function line(name: string, figure: Figure, extra = ''): string {
  const cpu = figure.cpuUsPerRequest !== undefined ? `  ${figure.cpuUsPerRequest.toFixed(1).padStart(5)} µs CPU/request` : '';
  return `${name.padEnd(12)}${figure.rps.toFixed(0).padStart(8)} req/s${cpu}${extra}`;
}

/** Runs an external generator; its CPU is measured from the children's rusage once it exits. */
async function measured(run: () => Promise<{ rps: number; total: number }>): Promise<Figure> {
  const before = childCpuSeconds();
  const { rps, total } = await run();
  const after = childCpuSeconds();
  const figure: Figure = { rps };
  if (before !== undefined && after !== undefined && total > 0) figure.cpuUsPerRequest = ((after - before) * 1e6) / total;
  return figure;
}


/** govctl's connections in a closed loop for `seconds`; returns requests/s. */
async function runGovctl(url: URL, seconds: number, record: boolean): Promise<Figure & { p99Ms?: number; errors: number }> {
  const bytes = serializeRequest({ method: 'GET', path: '/v1/bench', host: url.host, headers: {} });
  const histogram = record ? hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 }) : undefined;
  let completed = 0;
  let errors = 0;
  let running = true;
  const conns = Array.from({ length: connections }, () => createConnection({ url, timeoutMs: 10_000 }));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await new Promise<void>((done) => {
    for (const conn of conns) {
      const loop = (error: string | undefined, _response: unknown, sentAt: number): void => {
        if (!running) return;
        if (error !== undefined) errors++;
        else completed++;
        if (histogram !== undefined) histogram.recordValue(Math.round((performance.now() - sentAt) * 1000));
        conn.request(bytes, false, loop);
      };
      conn.request(bytes, false, loop);
    }
    setTimeout(() => {
      running = false;
      done();
    }, seconds * 1000);
  });
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  for (const conn of conns) conn.close();
  const result: Figure & { p99Ms?: number; errors: number } = {
    rps: completed / elapsed,
    errors,
    cpuUsPerRequest: completed > 0 ? (cpu.user + cpu.system) / completed : 0,
  };
  if (histogram !== undefined) result.p99Ms = histogram.getValueAtPercentile(99) / 1000;
  return result;
}

function runProcess(command: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${command} exited ${code}: ${err.slice(-500)}`))));
  });
}

async function runAutocannon(url: URL): Promise<{ rps: number; total: number }> {
  const bin = join(ROOT, 'node_modules', '.bin', 'autocannon');
  const out = await runProcess(bin, ['-c', String(connections), '-d', String(durationS), '--json', url.href]);
  const result = JSON.parse(out) as { requests: { total: number }; duration: number };
  return { rps: result.requests.total / result.duration, total: result.requests.total };
}

async function runWrk(url: URL): Promise<{ rps: number; total: number }> {
  const out = await runProcess('/usr/bin/wrk', ['-t2', `-c${connections}`, `-d${durationS}s`, url.href]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  if (!rps || !total) throw new Error(`unexpected wrk output: ${out}`);
  return { rps: Number(rps[1]), total: Number(total[1]) };
}

async function main(): Promise<void> {
  const port = await startMinimalServer();
  const url = new URL(`http://127.0.0.1:${port}/v1/bench`);
  console.log(`target: node:http in a child process on ${url.host}; ${connections} connections, ${durationS} s each, 2 cores shared`);
  const figures: Record<string, Figure> = {};
  try {
    if (warmupS > 0) await runGovctl(url, warmupS, false);
    if (tools.has('govctl')) {
      const g = await runGovctl(url, durationS, values.record);
      figures.govctl = g;
      const extra = `${g.errors > 0 ? `  (${g.errors} errors)` : ''}${g.p99Ms !== undefined ? `  p99 ${g.p99Ms.toFixed(2)} ms (HDR recording on)` : ''}`;
      console.log(line('govctl', g, extra));
    }
    if (tools.has('autocannon')) {
      figures.autocannon = await measured(() => runAutocannon(url));
      console.log(line('autocannon', figures.autocannon));
    }
    if (tools.has('wrk')) {
      if (existsSync('/usr/bin/wrk')) {
        figures.wrk = await measured(() => runWrk(url));
        console.log(line('wrk -t2', figures.wrk));
      } else {
        console.log('wrk         not installed (/usr/bin/wrk)');
      }
    }
    const govctl = figures.govctl;
    if (govctl !== undefined) {
      for (const other of ['autocannon', 'wrk']) {
        const value = figures[other];
        if (value !== undefined) console.log(`govctl / ${other}: ${(govctl.rps / value.rps).toFixed(2)} x the requests/s`);
      }
    }
  } finally {
    stopMinimalServer();
  }
}

main().catch((err: unknown) => {
  stopMinimalServer();
  console.error(err);
  process.exitCode = 1;
});
