/**
 * CLI responsiveness: start-up (`govctl --version`) and `govctl keys list` against a server
 * holding 10,000 keys, in both output forms. Targets (issue: admin commands): start-up under
 * 150 ms, keys list under 1 s.
 *
 *   npm run bench:cli [-- --keys 10000 --runs 7]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { GOVCTL_BIN, killManagedServersSync, startManagedServer } from '../src/target/managed-server.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '10000' }, runs: { type: 'string', default: '7' } } });
const KEYS = Number(values.keys);
const RUNS = Number(values.runs);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeCommand(args: string[], env: NodeJS.ProcessEnv): number[] {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return times;
}

const line = (label: string, ms: number[], target?: number) =>
  console.log(
    `${label.padEnd(34)} median ${median(ms).toFixed(0).padStart(5)} ms   min ${Math.min(...ms).toFixed(0).padStart(5)} ms` +
      (target === undefined ? '' : `   target < ${target} ms  ${median(ms) < target ? 'PASS' : 'FAIL'}`),
  );

const home = await mkdtemp(join(tmpdir(), 'govctl-bench-cli-'));
const baseEnv = { PATH: process.env['PATH'] ?? '', HOME: home, NO_COLOR: '1' };
console.log(`node ${process.version}, ${RUNS} runs each`);
line('node -e 0 (floor)', timeCommand(['-e', '0'], baseEnv));
line('govctl --version', timeCommand([GOVCTL_BIN, '--version'], baseEnv), 150);
line('govctl --help', timeCommand([GOVCTL_BIN, '--help'], baseEnv));

// Last resort if the bench dies between here and the finally: no server, no temp data left.
process.once('exit', killManagedServersSync);
const server = await startManagedServer({ env: baseEnv });
try {
  const auth = { authorization: `Bearer ${server.adminKey!}`, 'content-type': 'application/json' };
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < KEYS) {
        const i = next++;
        const r = await request(`${server.url}/api/admin/keys`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `bench-key-${i}` }) });
        await r.body.text();
        if (r.statusCode !== 201) throw new Error(`key creation answered ${r.statusCode}`);
      }
    }),
  );
  console.log(`created ${KEYS} keys in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const env = { ...baseEnv, GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminKey! };
  line(`govctl keys list (${KEYS + 1} keys, table)`, timeCommand([GOVCTL_BIN, 'keys', 'list'], env), 1000);
  line(`govctl keys list (${KEYS + 1} keys, json)`, timeCommand([GOVCTL_BIN, 'keys', 'list', '-o', 'json'], env), 1000);
  const used = server.sample();
  if (used) console.log(`server: RSS ${(used.rssBytes / 2 ** 20).toFixed(1)} MiB (peak ${((used.peakRssBytes ?? 0) / 2 ** 20).toFixed(1)} MiB), CPU ${used.cpuSeconds.toFixed(1)} s`);
} finally {
  await server.dispose();
  await rm(home, { recursive: true, force: true });
}
