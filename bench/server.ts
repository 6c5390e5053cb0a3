/**
 * Throughput / latency / memory benchmark of the reference governance server (`govctl serve`).
 *
 *   npm run bench:server [-- options]
 *
 * Starts the server (the managed server process of src/target) on loopback over a throw-away
 * data dir, creates a user key, drives POST /v1/check with wrk (a realistic mix of clean,
 * personal-data and external-model requests; by default 50 connections for 60 s, --sync full),
 * then keeps driving load until the usage log holds 1,000,000 decisions and checks that the log
 * holds exactly the decisions the load generator saw answered. Reports p50/p90/p99/p99.9, the
 * longest event-loop stall of the server during the measured run (its /metrics
 * nodejs_eventloop_lag_max_seconds, reset by the scrape just before the run), prints the figures
 * beside the targets and writes reports/bench-server-<timestamp>.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileDurable } from '../src/core/durable-write.js';
import { killManagedServersSync, startManagedServer, type ManagedServer, type StopResult } from '../src/target/managed-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

const TARGETS = {
  decisionsPerSecond: 10_000,
  p99Ms: 15,
  rssMbAfterMillion: 200,
};

const USAGE = `usage: npm run bench:server -- [options]

  -c, --connections <n>    concurrent connections (default 50)
  -d, --duration <time>    measured run length, e.g. 10s for a quick run (default 60s)
  -t, --threads <n>        wrk threads (default 1: on 2 cores the server needs the other one)
      --warmup <time>      unmeasured warm-up run before the measured one (default 3s, 0 for none)
      --timeout <time>     wrk per-request timeout (default 5s)
      --sync <mode>        server commit durability: full (default) or normal
      --skip-million       skip the drive-to-1,000,000-decisions phase
      --target-rows <n>    decisions to reach in the long phase (default 1000000)
      --max-minutes <n>    upper bound on the long phase (default 20)
      --tool <name>        auto (default), wrk or autocannon
      --no-install         do not try to install wrk
      --build              run \`npm run build\` before starting (bin/ runs dist/)
      --server-node-arg <arg>  extra node flag for the server process (repeatable),
                           e.g. --server-node-arg=--cpu-prof --server-node-arg=--cpu-prof-dir=/tmp/prof
      --json-out <file>    where to write the result (default reports/bench-server-<timestamp>.json)
  -h, --help`;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  connections: number;
  durationS: number;
  threads: number;
  warmupS: number;
  timeoutS: number;
  sync: 'full' | 'normal';
  skipMillion: boolean;
  targetRows: number;
  maxMinutes: number;
  tool: 'auto' | 'wrk' | 'autocannon';
  install: boolean;
  build: boolean;
  serverNodeArgs: string[];
  jsonOut?: string;
}

function parseSeconds(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid ${flag} "${text}": use e.g. 10s, 2m`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n / 1000 : unit === 's' ? n : unit === 'm' ? n * 60 : n * 3600;
}

function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`invalid ${flag} "${text}": use a positive integer`);
  return Number(text);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      connections: { type: 'string', short: 'c', default: '50' },
      duration: { type: 'string', short: 'd', default: '60s' },
      threads: { type: 'string', short: 't', default: '1' },
      warmup: { type: 'string', default: '3s' },
      timeout: { type: 'string', default: '5s' },
      sync: { type: 'string', default: 'full' },
      'skip-million': { type: 'boolean', default: false },
      'target-rows': { type: 'string', default: '1000000' },
      'max-minutes': { type: 'string', default: '20' },
      tool: { type: 'string', default: 'auto' },
      'no-install': { type: 'boolean', default: false },
      build: { type: 'boolean', default: false },
      'server-node-arg': { type: 'string', multiple: true, default: [] },
      'json-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const sync = values.sync;
  if (sync !== 'full' && sync !== 'normal') throw new Error(`invalid --sync "${sync}": use full or normal`);
  const tool = values.tool;
  if (tool !== 'auto' && tool !== 'wrk' && tool !== 'autocannon') throw new Error(`invalid --tool "${tool}"`);
  const durationS = parseSeconds(values.duration, '--duration');
  if (durationS < 1 || durationS > 600) throw new Error('--duration must be between 1s and 10m');
  const warmupS = parseSeconds(values.warmup, '--warmup');
  if (warmupS > 120) throw new Error('--warmup must be at most 2m');
  const maxMinutes = Number(values['max-minutes']);
  if (!(maxMinutes > 0 && maxMinutes <= 120)) throw new Error('--max-minutes must be in (0, 120]');
  const connections = parsePositiveInt(values.connections, '--connections');
  const threads = parsePositiveInt(values.threads, '--threads');
  if (threads > connections) throw new Error('--threads must not exceed --connections (wrk needs a connection per thread)');
  return {
    connections,
    durationS: Math.round(durationS),
    threads,
    warmupS: Math.round(warmupS),
    timeoutS: Math.max(1, Math.round(parseSeconds(values.timeout, '--timeout'))),
    sync,
    skipMillion: values['skip-million'],
    targetRows: parsePositiveInt(values['target-rows'], '--target-rows'),
    maxMinutes,
    tool,
    install: !values['no-install'],
    build: values.build,
    serverNodeArgs: values['server-node-arg'],
    ...(values['json-out'] ? { jsonOut: resolve(values['json-out']) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: everything started here is stopped here, also on Ctrl-C.

const cleanup = {
  server: undefined as ManagedServer | undefined,
  serverStop: undefined as StopResult | undefined,
  loadGen: undefined as ChildProcess | undefined,
  dirs: [] as string[],
  stopping: false,
};

function alive(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (!alive(child)) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/** Stops the server (SIGTERM: it finishes in-flight requests and commits; SIGKILL after 20 s). */
async function stopServer(): Promise<void> {
  const server = cleanup.server;
  if (!server?.running) return;
  cleanup.serverStop = await server.stop('SIGTERM', 20_000);
  if (cleanup.serverStop.forced) console.error(`server pid ${server.pid} did not stop within 20 s; it was SIGKILLed`);
}

async function cleanupAll(): Promise<void> {
  if (alive(cleanup.loadGen)) {
    cleanup.loadGen.kill('SIGTERM');
    await waitExit(cleanup.loadGen, 5_000);
  }
  await stopServer();
  for (const dir of cleanup.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

function installSignalHandlers(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (cleanup.stopping) {
      // Second Ctrl-C: no more waiting.
      if (alive(cleanup.loadGen)) cleanup.loadGen.kill('SIGKILL');
      cleanup.server?.kill('SIGKILL');
      process.exit(130);
    }
    cleanup.stopping = true;
    console.error(`\n${signal}: stopping the load generator and the server, removing temp dirs...`);
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort if we exit some other way: never leave a server or temp dir behind.
  process.on('exit', () => {
    if (alive(cleanup.loadGen)) cleanup.loadGen.kill('SIGKILL');
    killManagedServersSync();
    for (const dir of cleanup.dirs) rmSync(dir, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Machine and tools

function run(cmd: string, args: string[], opts: { inherit?: boolean } = {}): { status: number | null; out: string; error?: Error } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: opts.inherit ? 'inherit' : 'pipe' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, ...(r.error ? { error: r.error } : {}) };
}

function hasCommand(cmd: string): boolean {
  return run('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function wrkVersion(): string | undefined {
  if (!hasCommand('wrk')) return undefined;
  // `wrk -v` prints its version then usage, and exits 1.
  const first = run('wrk', ['-v']).out.split('\n')[0]?.trim();
  return first || 'wrk (unknown version)';
}

/** Finds wrk, installing the Debian package if needed; autocannon via npx only if apt is impossible. */
function chooseTool(opts: Options): { tool: 'wrk' | 'autocannon'; version: string; note: string } {
  if (opts.tool !== 'autocannon') {
    let version = wrkVersion();
    if (version) return { tool: 'wrk', version, note: 'wrk found on PATH' };
    console.log('wrk: not found on PATH.');
    if (opts.install && hasCommand('apt-get')) {
      const sudo = process.getuid?.() === 0 ? [] : hasCommand('sudo') ? ['sudo', '-n'] : undefined;
      if (sudo === undefined) {
        console.log('wrk: not root and no sudo; cannot run apt-get.');
      } else {
        const apt = (args: string[]) => {
          const argv = [...sudo, 'apt-get', ...args];
          console.log(`wrk: running: ${argv.join(' ')}`);
          return run(argv[0]!, argv.slice(1), { inherit: true }).status === 0;
        };
        const env = 'DEBIAN_FRONTEND=noninteractive';
        process.env['DEBIAN_FRONTEND'] = 'noninteractive';
        let ok = apt(['install', '-y', 'wrk']);
        if (!ok) {
          console.log(`wrk: install failed; refreshing the package lists first (${env})`);
          ok = apt(['update']) && apt(['install', '-y', 'wrk']);
        }
        version = wrkVersion();
        if (ok && version) return { tool: 'wrk', version, note: 'installed with apt-get install -y wrk' };
        console.log('wrk: apt-get could not install it.');
      }
    } else if (opts.install) {
      console.log('wrk: apt-get is not available on this machine.');
    }
    if (opts.tool === 'wrk') throw new Error('wrk is required (--tool wrk) but could not be found or installed');
    console.log('wrk: falling back to autocannon via npx.');
  }
  const v = run('npx', ['--yes', 'autocannon', '--version']);
  if (v.status !== 0) throw new Error(`neither wrk nor autocannon (npx) is usable: ${v.out.trim()}`);
  return { tool: 'autocannon', version: `autocannon ${v.out.trim().split('\n').pop()}`, note: 'autocannon via npx (wrk unavailable)' };
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    total_mem_mb: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadavg: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(ext)) continue;
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt(opts: Options): void {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (opts.build || !existsSync(main)) {
    console.log('build: running npm run build (bin/govctl.js runs dist/)');
    if (run('npm', ['run', 'build', '--silent'], { inherit: true }).status !== 0) throw new Error('npm run build failed');
    return;
  }
  if (newestMtime(join(ROOT, 'src'), '.ts') > newestMtime(join(ROOT, 'dist'), '.js')) {
    console.log('build: NOTE: src/ has changes newer than dist/; the server runs dist/. Pass --build to rebuild first.');
  }
}

// ---------------------------------------------------------------------------------------------
// Server

interface ServerHandle {
  url: string;
  pid: number;
  dataDir: string;
  adminToken: string;
  stderrTail: () => string;
}

async function startServer(opts: Options, dataDir: string): Promise<ServerHandle> {
  // The managed server process (src/target): the same launcher as the tests and chaos.
  const server = await startManagedServer({
    env: { ...process.env },
    cwd: ROOT,
    dataDir,
    host: HOST,
    logLevel: 'warn',
    nodeArgs: opts.serverNodeArgs,
    serveArgs: ['--rate-limit', '1000000000/60s', '--sync', opts.sync],
  });
  cleanup.server = server;
  const url = new URL(server.url);
  if (url.hostname !== HOST) throw new Error(`server listens on ${url.hostname}, expected loopback ${HOST}`);
  return { url: server.url, pid: server.pid, dataDir, adminToken: server.adminKey!, stderrTail: () => server.stderr() };
}

/** The server's event-loop delay max since the previous scrape (prom-client resets it on each). */
async function eventLoopLagMaxMs(server: ServerHandle): Promise<number | undefined> {
  const res = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})?\s+([\d.eE+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** prom-client samples the event loop every 10 ms: a delay sample includes that interval. */
const LAG_RESOLUTION_MS = 10;

async function api<T>(server: ServerHandle, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function createUserKey(server: ServerHandle): Promise<string> {
  const res = await api<{ api_key?: string }>(server, 'POST', '/api/admin/keys', server.adminToken, { name: 'bench' });
  if (res.status !== 201 || !res.json.api_key) throw new Error(`creating the bench key failed: HTTP ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.api_key;
}

async function logTotal(server: ServerHandle): Promise<number> {
  const res = await api<{ total?: number }>(server, 'GET', '/api/admin/logs?page_size=1', server.adminToken);
  if (res.status !== 200 || typeof res.json.total !== 'number') throw new Error(`GET /api/admin/logs failed: HTTP ${res.status}`);
  return res.json.total;
}

async function keyRequestsCount(server: ServerHandle, name: string): Promise<number | undefined> {
  const res = await api<unknown>(server, 'GET', '/api/admin/keys', server.adminToken);
  const list = Array.isArray(res.json) ? res.json : ((res.json as { keys?: unknown[] }).keys ?? []);
  const row = (list as { name?: string; requests_count?: number }[]).find((k) => k.name === name);
  return row?.requests_count;
}

/** VmRSS / VmHWM of a process in MiB, from /proc (Linux). */
function memoryOf(pid: number): { rss_mb?: number; peak_rss_mb?: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
    };
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    return { ...(rss !== undefined ? { rss_mb: rss } : {}), ...(hwm !== undefined ? { peak_rss_mb: hwm } : {}) };
  } catch {
    return {};
  }
}

/** utime+stime of a process in seconds, from /proc (Linux). */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state is field 3 of the full line, utime 14, stime 15 -> indexes 11, 12 here.
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process's reaped children (the load generator runs as one). */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime
  } catch {
    return undefined;
  }
}

/** Machine-wide busy and total CPU seconds, from /proc/stat (Linux): other load skews results. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Request mix

/**
 * Request bodies, weighted by repetition: ~55% clean (allowed), ~20% personal data (blocked),
 * ~20% external model (blocked: 50 is not < max 50), ~5% both. Metadata carries the usual
 * non-content context fields (tenant, region, tags, nested objects) a real caller sends.
 */
function requestMix(): { name: string; body: unknown; expect: { allowed: boolean; reason: string } }[] {
  const models = ['gpt-4', 'gpt-4o-mini', 'claude-3-haiku', 'llama-3-70b', 'mistral-large'];
  const operations = ['chat', 'completion', 'embedding', 'summarize'];
  const out: ReturnType<typeof requestMix> = [];
  for (let i = 0; i < 20; i++) {
    const kind = i < 11 ? 'clean' : i < 15 ? 'personal' : i < 19 ? 'external' : 'both';
    const metadata: Record<string, unknown> = {
      tenant: `acme-${i % 3}`,
      region: ['eu-west-1', 'us-east-1', 'ap-south-1'][i % 3],
      request_source: i % 2 === 0 ? 'web' : 'batch',
      tags: ['prod', `team-${i % 4}`],
      session: { tier: i % 5 === 0 ? 'enterprise' : 'pro', retries: i % 3 },
      contains_personal_data: kind === 'personal' || kind === 'both',
    };
    if (kind === 'external' || kind === 'both') metadata[i % 2 === 0 ? 'is_external_model' : 'uses_external_model'] = true;
    else if (i % 4 === 0) metadata['is_external_model'] = false;
    const expect =
      kind === 'clean'
        ? { allowed: true, reason: 'ok' }
        : kind === 'external'
          ? { allowed: false, reason: 'external_model' }
          : { allowed: false, reason: 'contains_personal_data' };
    out.push({ name: kind, body: { model: models[i % models.length], operation: operations[i % operations.length], metadata }, expect });
  }
  return out;
}

function luaString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function wrkScript(token: string, bodies: unknown[]): string {
  return `-- generated by bench/server.ts: POST /v1/check with a mix of request bodies
local token = ${luaString(token)}
local bodies = {
${bodies.map((b) => `  ${luaString(JSON.stringify(b))},`).join('\n')}
}
local reqs = {}
local n = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  for i, body in ipairs(bodies) do
    reqs[i] = wrk.format("POST", "/v1/check", headers, body)
  end
  n = math.random(#reqs) - 1
end

function request()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"mean_us":%.1f,"max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
`;
}

// ---------------------------------------------------------------------------------------------
// Load generators

interface LoadResult {
  tool: 'wrk' | 'autocannon';
  durationS: number;
  requests: number;
  ok2xx: number;
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  decisionsPerS: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  maxMs?: number;
  raw: string;
}

/** wrk prints times as 1.23us / 4.56ms / 1.20s / 2.00m. */
function wrkTimeMs(text: string): number | undefined {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
}

export function parseWrk(out: string): Omit<LoadResult, 'tool' | 'raw'> {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? wrkTimeMs(m[1]!) : undefined;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (!total) throw new Error(`cannot parse wrk output:\n${out}`);
  const requests = Number(total[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s*(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const rps = /Requests\/sec:\s*([\d.]+)/.exec(out);
  const j = /BENCH_JSON (\{.*\})/.exec(out);
  const exact = j ? (JSON.parse(j[1]!) as Record<string, number>) : undefined;
  const fromUs = (k: string) => (exact && typeof exact[k] === 'number' ? exact[k] / 1000 : undefined);
  const durationS = exact ? exact['duration_us']! / 1e6 : (wrkTimeMs(`${total[2]}${total[3]}`) ?? 0) / 1000;
  const ok2xx = requests - non2xx;
  return {
    durationS,
    requests,
    ok2xx,
    non2xx,
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
    // Decisions/s counts successful decisions only (a 4xx/5xx is not a decision).
    decisionsPerS: durationS > 0 ? ok2xx / durationS : Number(rps?.[1] ?? 0),
    // The printed --latency distribution (2 decimals); the done() hook's exact values refine it.
    p50Ms: fromUs('p50_us') ?? pct('50'),
    p90Ms: fromUs('p90_us') ?? pct('90'),
    p99Ms: fromUs('p99_us') ?? pct('99'),
    ...(fromUs('p999_us') !== undefined ? { p999Ms: fromUs('p999_us') } : {}),
    ...(fromUs('max_us') !== undefined ? { maxMs: fromUs('max_us') } : {}),
  };
}

function runChild(cmd: string, args: string[], echo: boolean): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.loadGen = child;
    let out = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      out += text;
      if (echo) process.stdout.write(text.replace(/^BENCH_JSON .*\n?/m, ''));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('error', fail);
    child.once('close', (code) => {
      cleanup.loadGen = undefined;
      done({ code, out });
    });
  });
}

async function runLoad(
  tool: 'wrk' | 'autocannon',
  opts: Options,
  url: string,
  luaPath: string,
  token: string,
  fallbackBody: unknown,
  durationS: number,
  echo: boolean,
): Promise<LoadResult> {
  const target = `${url}/v1/check`;
  if (tool === 'wrk') {
    const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${durationS}s`, '--timeout', `${opts.timeoutS}s`, '--latency', '-s', luaPath, target];
    if (echo) console.log(`$ wrk ${args.join(' ')}`);
    const { code, out } = await runChild('wrk', args, echo);
    if (code !== 0) throw new Error(`wrk exited with ${code}:\n${out}`);
    return { tool, raw: out, ...parseWrk(out) };
  }
  // autocannon's CLI sends one body; the mix needs its programmatic API, so the fallback is
  // a single representative (clean) body. Said in the output and the JSON.
  const args = [
    '--yes', 'autocannon', '-c', String(opts.connections), '-d', String(durationS), '-t', String(opts.timeoutS), '-j',
    '-m', 'POST', '-H', 'content-type=application/json', '-H', `authorization=Bearer ${token}`, '-b', JSON.stringify(fallbackBody), target,
  ];
  if (echo) console.log(`$ npx autocannon -c ${opts.connections} -d ${durationS} -j -m POST ... ${target}`);
  const { code, out } = await runChild('npx', args, false);
  if (code !== 0) throw new Error(`autocannon exited with ${code}:\n${out}`);
  const start = out.indexOf('{');
  const r = JSON.parse(out.slice(start, out.lastIndexOf('}') + 1)) as {
    duration: number;
    requests: { total: number; average: number };
    latency: { p50: number; p90: number; p99: number; p99_9?: number; max: number };
    non2xx: number;
    '2xx': number;
    errors: number;
    timeouts: number;
  };
  if (echo) console.log(JSON.stringify({ requests: r.requests, latency: r.latency, non2xx: r.non2xx, errors: r.errors }));
  return {
    tool,
    raw: out,
    durationS: r.duration,
    requests: r.requests.total,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    socketErrors: { connect: 0, read: r.errors - r.timeouts, write: 0, timeout: r.timeouts },
    decisionsPerS: r['2xx'] / r.duration,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    ...(r.latency.p99_9 !== undefined ? { p999Ms: r.latency.p99_9 } : {}),
    maxMs: r.latency.max,
  };
}

// ---------------------------------------------------------------------------------------------
// Main

const fmt = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const fmtInt = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  installSignalHandlers();
  const startedAt = new Date();

  const machine = machineInfo();
  console.log('== machine');
  console.log(`cpus: ${machine.cpus} x ${machine.cpu_model}; memory ${machine.total_mem_mb} MiB; load ${machine.loadavg.join(' ')}`);
  console.log(`os: ${machine.platform}; node ${machine.node}`);

  const chosen = chooseTool(opts);
  console.log(`load generator: ${chosen.version} (${chosen.note})`);
  if (chosen.tool === 'autocannon') console.log('NOTE: the autocannon CLI sends a single (clean) body; the personal-data/external-model mix needs wrk.');
  ensureBuilt(opts);

  const tmp = await mkdtemp(join(os.tmpdir(), 'govctl-bench-'));
  cleanup.dirs.push(tmp);
  const dataDir = join(tmp, 'data');

  console.log(`\n== server (sync=${opts.sync}${opts.serverNodeArgs.length ? `, node ${opts.serverNodeArgs.join(' ')}` : ''})`);
  const server = await startServer(opts, dataDir);
  console.log(`govctl serve: ${server.url}, pid ${server.pid}, data ${server.dataDir}`);
  const rssIdle = memoryOf(server.pid);
  console.log(`RSS at start: ${fmt(rssIdle.rss_mb, 1)} MiB`);

  const userKey = await createUserKey(server);
  const mix = requestMix();

  // Every body once, checked against the expected decision: the mix measures what it claims to.
  let smoke2xx = 0;
  for (const m of mix) {
    const res = await api<{ allowed?: boolean; reason?: string }>(server, 'POST', '/v1/check', userKey, m.body);
    if (res.status === 200) smoke2xx++;
    if (res.status !== 200 || res.json.allowed !== m.expect.allowed || res.json.reason !== m.expect.reason) {
      throw new Error(`request mix check failed for a ${m.name} body: HTTP ${res.status} ${JSON.stringify(res.json)}, expected ${JSON.stringify(m.expect)}`);
    }
  }
  const kinds = mix.reduce<Record<string, number>>((acc, m) => ({ ...acc, [m.name]: (acc[m.name] ?? 0) + 1 }), {});
  console.log(`request mix (${mix.length} bodies, cycled): ${Object.entries(kinds).map(([k, v]) => `${k} ${Math.round((v / mix.length) * 100)}%`).join(', ')}; each verified once`);

  const luaPath = join(tmp, 'check.lua');
  await writeFile(luaPath, wrkScript(userKey, mix.map((m) => m.body)), { mode: 0o600 });

  // Each run's log delta is compared with the 2xx it saw: the log may only exceed them by the
  // requests in flight when the run was cut off (at most one per connection).
  const runs: { phase: string; result: LoadResult; logDelta: number }[] = [];
  const load = async (phase: string, durationS: number, echo: boolean) => {
    const before = await logTotal(server);
    const result = await runLoad(chosen.tool, opts, server.url, luaPath, userKey, mix[0]!.body, durationS, echo);
    const after = await logTotal(server);
    runs.push({ phase, result, logDelta: after - before });
    return result;
  };

  if (opts.warmupS > 0) {
    console.log(`\n== warm-up (${opts.warmupS}s, not measured)`);
    const w = await load('warmup', opts.warmupS, false);
    console.log(`warm-up: ${fmtInt(w.decisionsPerS)} decisions/s, p99 ${fmt(w.p99Ms)} ms`);
  }

  console.log(`\n== measured run: ${opts.connections} connections, ${opts.threads} thread(s), ${opts.durationS}s`);
  const cpuBefore = cpuSecondsOf(server.pid);
  const machineBefore = machineCpu();
  const childrenBefore = childrenCpuSeconds();
  await eventLoopLagMaxMs(server); // resets the server's event-loop delay histogram
  // Control: this (mostly idle) process's own event-loop delay over the same run. A stall it
  // shows too came from the machine (CPU contention), not from the server's code.
  const control = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  control.enable();
  const measured = await load('measured', opts.durationS, true);
  control.disable();
  const lagMaxMs = await eventLoopLagMaxMs(server);
  const controlStallMs = Math.max(0, control.max / 1e6 - LAG_RESOLUTION_MS);
  const stallMs = lagMaxMs === undefined ? undefined : Math.max(0, lagMaxMs - LAG_RESOLUTION_MS);
  const cpuAfter = cpuSecondsOf(server.pid);
  const machineAfter = machineCpu();
  const childrenAfter = childrenCpuSeconds();
  const loadGenCpuPct =
    childrenBefore !== undefined && childrenAfter !== undefined ? ((childrenAfter - childrenBefore) / measured.durationS) * 100 : undefined;
  // Machine-wide busy share during the run, in cores (100% = one core): server + wrk + anything else.
  const machineBusyPct =
    machineBefore && machineAfter ? ((machineAfter.busy - machineBefore.busy) / ((machineAfter.total - machineBefore.total) / machine.cpus)) * 100 : undefined;
  const rssAfterRun = memoryOf(server.pid);
  const serverCpuPct = cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) / measured.durationS) * 100 : undefined;
  const sockErr = measured.socketErrors;
  console.log('\n-- result of the measured run');
  console.log(`decisions/s:   ${fmtInt(measured.decisionsPerS)}  (2xx ${fmtInt(measured.ok2xx)} in ${fmt(measured.durationS)} s)`);
  console.log(`latency:       p50 ${fmt(measured.p50Ms)} ms, p90 ${fmt(measured.p90Ms)} ms, p99 ${fmt(measured.p99Ms)} ms, p99.9 ${fmt(measured.p999Ms)} ms, max ${fmt(measured.maxMs)} ms`);
  console.log(
    `event loop:    longest stall ~${fmt(stallMs, 1)} ms (server's nodejs_eventloop_lag_max ${fmt(lagMaxMs, 1)} ms, sampled every ${LAG_RESOLUTION_MS} ms); ` +
      `control (the idle bench process): ~${fmt(controlStallMs, 1)} ms`,
  );
  console.log(`non-2xx:       ${measured.non2xx}; socket errors: connect ${sockErr.connect}, read ${sockErr.read}, write ${sockErr.write}, timeout ${sockErr.timeout}`);
  console.log(`server:        RSS ${fmt(rssAfterRun.rss_mb, 1)} MiB (peak ${fmt(rssAfterRun.peak_rss_mb, 1)} MiB), CPU ${fmt(serverCpuPct, 0)}% of one core`);
  const otherCpuPct =
    machineBusyPct !== undefined && serverCpuPct !== undefined && loadGenCpuPct !== undefined ? Math.max(0, machineBusyPct - serverCpuPct - loadGenCpuPct) : undefined;
  console.log(
    `machine:       ${fmt(machineBusyPct, 0)}% busy of ${machine.cpus * 100}%: server ${fmt(serverCpuPct, 0)}%, ${chosen.tool} ${fmt(loadGenCpuPct, 0)}%, other processes ${fmt(otherCpuPct, 0)}%` +
      (otherCpuPct !== undefined && otherCpuPct > 15 ? ' -- NOTE: other load on the machine; figures are noisy, re-run when it is idle' : ''),
  );

  // Long phase: keep driving load until the log holds the target number of decisions.
  let million: Record<string, unknown> | undefined;
  let rssAfterMillion: { rss_mb?: number; peak_rss_mb?: number } | undefined;
  let totalAtEnd = await logTotal(server);
  if (!opts.skipMillion) {
    console.log(`\n== driving load until the usage log holds ${fmtInt(opts.targetRows)} decisions (bound: ${opts.maxMinutes} min)`);
    const deadline = Date.now() + opts.maxMinutes * 60_000;
    const phaseStart = Date.now();
    let rate = Math.max(measured.decisionsPerS, 500);
    let chunks = 0;
    while (totalAtEnd < opts.targetRows && Date.now() < deadline) {
      const remaining = opts.targetRows - totalAtEnd;
      const leftS = Math.floor((deadline - Date.now()) / 1000);
      const chunkS = Math.max(2, Math.min(120, leftS, Math.ceil((remaining / rate) * 1.02) + 1));
      const r = await load('million', chunkS, false);
      chunks++;
      if (r.decisionsPerS > 0) rate = r.decisionsPerS;
      totalAtEnd = await logTotal(server);
      const mem = memoryOf(server.pid);
      console.log(
        `  chunk ${chunks}: ${chunkS}s, ${fmtInt(r.decisionsPerS)} decisions/s, p99 ${fmt(r.p99Ms)} ms, non-2xx ${r.non2xx}; log total ${fmtInt(totalAtEnd)}; RSS ${fmt(mem.rss_mb, 1)} MiB`,
      );
    }
    rssAfterMillion = memoryOf(server.pid);
    const reached = totalAtEnd >= opts.targetRows;
    const phaseS = (Date.now() - phaseStart) / 1000;
    const longRuns = runs.filter((r) => r.phase === 'million').map((r) => r.result);
    const long2xx = longRuns.reduce((s, r) => s + r.ok2xx, 0);
    const longS = longRuns.reduce((s, r) => s + r.durationS, 0);
    million = {
      reached,
      target_rows: opts.targetRows,
      log_total: totalAtEnd,
      chunks,
      elapsed_s: Math.round(phaseS),
      decisions_per_s: longS > 0 ? long2xx / longS : undefined,
      worst_chunk_p99_ms: Math.max(...longRuns.map((r) => r.p99Ms ?? 0)),
      non_2xx: longRuns.reduce((s, r) => s + r.non2xx, 0),
      ...rssAfterMillion,
    };
    console.log(
      `${reached ? 'reached' : 'NOT reached (time bound)'}: ${fmtInt(totalAtEnd)} decisions logged in ${Math.round(phaseS)} s; ` +
        `RSS ${fmt(rssAfterMillion.rss_mb, 1)} MiB (peak ${fmt(rssAfterMillion.peak_rss_mb, 1)} MiB)`,
    );
  }

  // Honest accounting: every 2xx the clients saw must be in the log. wrk stops mid-flight, so up
  // to one in-flight request per connection per run may be committed but never counted by wrk
  // (its answer went to a closed socket): the log may exceed the 2xx count by at most that.
  const seen2xx = smoke2xx + runs.reduce((s, r) => s + r.result.ok2xx, 0);
  const seenRequests = mix.length + runs.reduce((s, r) => s + r.result.requests, 0);
  const inFlightAllowance = runs.length * opts.connections;
  const extra = totalAtEnd - seen2xx;
  const badRuns = runs.filter((r) => r.logDelta < r.result.ok2xx || r.logDelta - r.result.ok2xx > opts.connections);
  const accountingOk = extra >= 0 && extra <= inFlightAllowance && badRuns.length === 0;
  const keyCount = await keyRequestsCount(server, 'bench');
  console.log('\n== accounting');
  console.log(`2xx seen by clients: ${fmtInt(seen2xx)} (${runs.length} load runs + ${smoke2xx} checks); usage log total: ${fmtInt(totalAtEnd)}`);
  console.log(
    `difference log - 2xx: ${extra} (allowed 0..${inFlightAllowance}: requests in flight when a run was cut off); bench key requests_count ${fmtInt(keyCount)} vs requests sent ${fmtInt(seenRequests)}`,
  );
  for (const r of badRuns) {
    console.log(`  run "${r.phase}": log grew by ${r.logDelta}, ${chosen.tool} saw ${r.result.ok2xx} 2xx (allowed: 0..${opts.connections} more)`);
  }
  console.log(
    badRuns.length > 0
      ? `FAIL: ${badRuns.length} run(s) out of bounds`
      : extra < 0
      ? `FAIL: ${-extra} decisions answered 2xx are missing from the usage log`
      : accountingOk
        ? extra === 0
          ? 'PASS: the log holds exactly the decisions answered'
          : `PASS: every answered decision is logged; ${extra} more were committed whose answer ${chosen.tool} dropped at a run's cut-off`
        : `FAIL: the log holds ${extra} decisions more than were answered, more than could have been in flight`,
  );

  // Targets
  type Verdict = { target: string; measured: string; pass: boolean | undefined };
  const verdicts: Record<string, Verdict> = {
    decisions_per_s: { target: `>= ${fmtInt(TARGETS.decisionsPerSecond)}`, measured: fmtInt(measured.decisionsPerS), pass: measured.decisionsPerS >= TARGETS.decisionsPerSecond },
    p99_ms: { target: `<= ${TARGETS.p99Ms} ms`, measured: `${fmt(measured.p99Ms)} ms`, pass: measured.p99Ms === undefined ? undefined : measured.p99Ms <= TARGETS.p99Ms },
    rss_after_million_mb: opts.skipMillion
      ? { target: `<= ${TARGETS.rssMbAfterMillion} MB`, measured: 'skipped', pass: undefined }
      : {
          target: `<= ${TARGETS.rssMbAfterMillion} MB after ${fmtInt(opts.targetRows)}`,
          measured: `${fmt(rssAfterMillion?.rss_mb, 1)} MiB${million?.['reached'] ? '' : ' (target rows not reached)'}`,
          pass: rssAfterMillion?.rss_mb === undefined || !million?.['reached'] ? false : rssAfterMillion.rss_mb <= TARGETS.rssMbAfterMillion,
        },
    accounting: { target: 'log == 2xx (+ in-flight at cut-off)', measured: `${extra >= 0 ? '+' : ''}${extra}`, pass: accountingOk },
  };
  const mark = (p: boolean | undefined) => (p === undefined ? 'SKIP' : p ? 'PASS' : 'FAIL');
  console.log(`\n== targets (sync=${opts.sync}, ${opts.connections} connections, ${chosen.tool === 'wrk' ? `${opts.threads} wrk thread(s)` : 'autocannon'}, ${opts.durationS}s)`);
  const rows = Object.entries(verdicts).map(([k, v]) => [k, v.target, v.measured, mark(v.pass)] as const);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['metric', 'target', 'measured'][i]!.length));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
  console.log(line(['metric', 'target', 'measured', 'result']));
  for (const r of rows) console.log(line(r));

  // Stop the server before writing the report: a clean stop is part of the result.
  const stopStart = Date.now();
  await stopServer();
  const stopS = (Date.now() - stopStart) / 1000;
  const stop = cleanup.serverStop;
  const serverExit = stop ? { code: stop.exitCode ?? null, signal: stop.signal ?? null, forced: stop.forced } : undefined;
  console.log(`\nserver stopped in ${fmt(stopS, 1)} s (exit ${serverExit?.code ?? serverExit?.signal})`);

  const report = {
    kind: 'govctl.bench-server',
    version: 1,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    machine: { ...machine, load_generator: chosen.version, load_generator_note: chosen.note },
    config: {
      connections: opts.connections,
      threads: opts.threads,
      duration_s: opts.durationS,
      warmup_s: opts.warmupS,
      timeout_s: opts.timeoutS,
      sync: opts.sync,
      target_rows: opts.targetRows,
      skip_million: opts.skipMillion,
      server_node_args: opts.serverNodeArgs,
      request_mix: kinds,
    },
    targets: TARGETS,
    measured: {
      decisions_per_s: measured.decisionsPerS,
      requests: measured.requests,
      ok_2xx: measured.ok2xx,
      non_2xx: measured.non2xx,
      socket_errors: measured.socketErrors,
      p50_ms: measured.p50Ms,
      p90_ms: measured.p90Ms,
      p99_ms: measured.p99Ms,
      p999_ms: measured.p999Ms,
      max_ms: measured.maxMs,
      event_loop_lag_max_ms: lagMaxMs,
      event_loop_longest_stall_ms: stallMs,
      control_event_loop_longest_stall_ms: controlStallMs,
      duration_s: measured.durationS,
      server_cpu_pct_of_core: serverCpuPct,
      machine_busy_pct_of_core: machineBusyPct,
      load_generator_cpu_pct_of_core: loadGenCpuPct,
      other_processes_cpu_pct_of_core: otherCpuPct,
      rss_mb_at_start: rssIdle.rss_mb,
      rss_mb_after_run: rssAfterRun.rss_mb,
      peak_rss_mb_after_run: rssAfterRun.peak_rss_mb,
    },
    million: million ?? null,
    accounting: {
      ok: accountingOk,
      log_total: totalAtEnd,
      client_2xx: seen2xx,
      difference: extra,
      in_flight_allowance: inFlightAllowance,
      runs: runs.length,
      runs_out_of_bounds: badRuns.length,
      requests_sent: seenRequests,
      key_requests_count: keyCount ?? null,
    },
    verdicts: Object.fromEntries(Object.entries(verdicts).map(([k, v]) => [k, { ...v, result: mark(v.pass) }])),
    runs: runs.map(({ phase, result, logDelta }) => {
      const { raw: _raw, ...rest } = result;
      return { phase, ...rest, log_delta: logDelta, log_minus_2xx: logDelta - result.ok2xx };
    }),
    server_stop_s: stopS,
    server_exit: serverExit ?? null,
    server_stderr_tail: server.stderrTail().slice(-2000),
  };
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const out = opts.jsonOut ?? join(ROOT, 'reports', `bench-server-${stamp}.json`);
  await writeFileDurable(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`report: ${out}`);

  await cleanupAll();
  const failed = Object.values(verdicts).some((v) => v.pass === false);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    if (cleanup.stopping) return; // interrupted: the signal handler cleans up and exits
    console.error(`bench:server: ${err instanceof Error ? err.message : String(err)}`);
    await cleanupAll().catch(() => undefined);
    process.exitCode = 2;
  },
);
