/**
 * Micro-benchmark of the chaos fault proxy's added latency with no toxic: many sequential
 * keep-alive HTTP request/response round trips over the load engine's lean request path
 * (src/load/http/connection.ts), against a minimal node:http server in a child process, once
 * directly and once through the proxy (in this process, as `govctl chaos` runs it). The two paths
 * alternate in blocks, so drift in the machine's load hits both alike.
 *
 *   node --import tsx bench/chaos-proxy.ts [-n 20000] [--blocks 20] [--warmup 2000]
 *
 * Prints p50 / p90 / p99 / p99.9 / max of both paths and the proxy's added latency at each; the
 * release target is p99 added < 1 ms on loopback. The server shares the machine's cores with
 * the client and the proxy, so the absolute figures depend on the machine; the difference is
 * the point.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startFaultProxy } from '../src/chaos/fault-proxy.js';
import { createConnection, type LeanHttpConnection } from '../src/load/http/connection.js';
import { serializeRequest } from '../src/load/http/request-bytes.js';
import { startMinimalServer, stopMinimalServer } from './minimal-server.js';


const { values } = parseArgs({
  options: {
    requests: { type: 'string', short: 'n', default: '20000' },
    blocks: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2000' },
  },
});
const total = Number(values.requests);
const blocks = Math.max(1, Number(values.blocks));
const warmup = Number(values.warmup);


/** `n` sequential round trips on one keep-alive connection; latencies in ms. */
function roundTrips(connection: LeanHttpConnection, bytes: Buffer, n: number, into: number[] | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = n;
    const next = (): void => {
      if (left-- === 0) return resolve();
      connection.request(bytes, false, (error, response, sentAt) => {
        if (error !== undefined || response?.status !== 200) return reject(new Error(`request failed: ${error ?? response?.status}`));
        into?.push(performance.now() - sentAt);
        next();
      });
    };
    next();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const port = await startMinimalServer();
  const proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port } });
  try {
    const paths = {
      direct: new URL(`http://127.0.0.1:${port}`),
      proxied: new URL(proxy.url),
    };
    const connections = {
      direct: createConnection({ url: paths.direct, timeoutMs: 5_000 }),
      proxied: createConnection({ url: paths.proxied, timeoutMs: 5_000 }),
    };
    const bytes = {
      direct: serializeRequest({ method: 'POST', path: '/v1/check', host: paths.direct.host, headers: {}, body: '{"model":"bench"}' }),
      proxied: serializeRequest({ method: 'POST', path: '/v1/check', host: paths.proxied.host, headers: {}, body: '{"model":"bench"}' }),
    };
    const latencies = { direct: [] as number[], proxied: [] as number[] };
    for (const path of ['direct', 'proxied'] as const) await roundTrips(connections[path], bytes[path], warmup, undefined);
    const perBlock = Math.ceil(total / blocks);
    const started = performance.now();
    for (let b = 0; b < blocks; b++) {
      // Alternate which path goes first, so neither always follows the other.
      const order = b % 2 === 0 ? (['direct', 'proxied'] as const) : (['proxied', 'direct'] as const);
      for (const path of order) await roundTrips(connections[path], bytes[path], perBlock, latencies[path]);
    }
    const seconds = (performance.now() - started) / 1000;
    for (const c of Object.values(connections)) c.close();

    const direct = latencies.direct.sort((a, b) => a - b);
    const proxied = latencies.proxied.sort((a, b) => a - b);
    const rows: Array<[string, number]> = [
      ['p50', 50],
      ['p90', 90],
      ['p99', 99],
      ['p99.9', 99.9],
      ['max', 100],
    ];
    const ms = (v: number) => v.toFixed(3).padStart(8);
    console.log(`fault proxy, no toxic: ${direct.length} + ${proxied.length} sequential keep-alive round trips in ${seconds.toFixed(1)} s (${blocks} alternating blocks, ${warmup} warm-up each)`);
    console.log(`${'ms'.padEnd(6)} ${'direct'.padStart(8)} ${'proxied'.padStart(8)} ${'added'.padStart(8)}`);
    for (const [label, p] of rows) {
      const d = percentile(direct, p);
      const x = percentile(proxied, p);
      console.log(`${label.padEnd(6)} ${ms(d)} ${ms(x)} ${ms(x - d)}`);
    }
    const addedP99 = percentile(proxied, 99) - percentile(direct, 99);
    console.log(`\nadded latency at p99: ${addedP99.toFixed(3)} ms (target < 1 ms): ${addedP99 < 1 ? 'PASS' : 'FAIL'}`);
    process.exitCode = addedP99 < 1 ? 0 : 1;
  } finally {
    await proxy.close();
    stopMinimalServer();
  }
}

await main();
