import { resolve } from 'node:path';
import type { FaultProxy } from '../../chaos/fault-proxy.js';
import type { ChaosRunOptions } from '../../chaos/runner.js';
import { PROBE_NAMES, type ChaosEvent, type ChaosReport, type ChaosTarget, type ProbeName } from '../../chaos/types.js';
import type { GovernanceClient } from '../../client/governance-client.js';
import { parseBytes } from '../../core/bytes.js';
import { parseDuration, parsePositiveDuration } from '../../core/duration.js';
import { ExitCode, InvalidInputError, UsageError } from '../../core/errors.js';
import { ensureWritableDir } from '../../core/fs-errors.js';
import { newRunId } from '../../core/report.js';
import type { Target } from '../../target/resolve.js';
import type { CliApp } from '../app.js';
import { chaosProgressPrinter } from '../render/chaos-progress.js';
import { renderTable, styled } from '../render/output.js';

export interface ChaosFlags {
  probe?: string;
  interval: string;
  budget: string;
  healthySamples: string;
  faultDuration: string;
  signal: string;
  toxic?: string[];
  maxBallast: string;
  keepFree: string;
  allowRemote?: boolean;
  trafficRate: string;
  serverCmd?: string;
  serverCwd?: string;
  serverEnv?: string[];
  serverUrlTemplate?: string;
  dependency?: string;
  out: string;
}

/** The reference server's default per-key limit (100/60s) would throttle the background traffic. */
const EMBEDDED_SERVE_ARGS = ['--rate-limit', '1000000/1s'];

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`invalid ${flag} "${text}": expected a whole number of at least 1`);
  return Number(text);
}

/** --probe restart,network: known names, no duplicates, in the order given. */
export function parseProbeList(text: string): ProbeName[] {
  const names = text.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  if (names.length === 0) throw new UsageError(`invalid --probe "${text}": name at least one of ${PROBE_NAMES.join(', ')}`);
  for (const name of names) {
    if (!PROBE_NAMES.includes(name as ProbeName)) throw new UsageError(`unknown probe "${name}" in --probe: use ${PROBE_NAMES.join(', ')}`);
  }
  return [...new Set(names as ProbeName[])];
}

function parseSignal(text: string): 'SIGKILL' | 'SIGTERM' {
  const name = text.trim().toUpperCase().replace(/^SIG/, '');
  if (name === 'KILL') return 'SIGKILL';
  if (name === 'TERM') return 'SIGTERM';
  throw new UsageError(`invalid --signal "${text}": use KILL or TERM`);
}

/** Everything a run needs from the flags, checked before anything starts. */
async function plan(app: CliApp, flags: ChaosFlags) {
  const out = resolve(app.io.cwd, flags.out);
  const probes = flags.probe !== undefined ? parseProbeList(flags.probe) : undefined;
  const toxics = flags.toxic ?? [];
  if (toxics.length > 0) {
    const { parseToxic } = await import('../../chaos/proxy/toxics.js');
    for (const toxic of toxics) parseToxic(toxic);
  }
  const trafficRate = Number(flags.trafficRate);
  if (!(trafficRate > 0) || !Number.isFinite(trafficRate)) throw new UsageError(`invalid --traffic-rate "${flags.trafficRate}": expected decisions per second, more than 0`);
  const faultDurationMs = parseDuration(flags.faultDuration, '--fault-duration');
  if (faultDurationMs < 1) throw new InvalidInputError(`invalid --fault-duration "${flags.faultDuration}": must be at least 1ms`);
  const options: ChaosRunOptions['probeOptions'] = {
    intervalMs: parsePositiveDuration(flags.interval, '--interval'),
    budgetMs: parsePositiveDuration(flags.budget, '--budget'),
    healthySamples: positiveInt(flags.healthySamples, '--healthy-samples'),
    faultDurationMs,
    allowRemote: flags.allowRemote === true,
    maxBallastBytes: parseBytes(flags.maxBallast, '--max-ballast'),
    keepFreeBytes: parseBytes(flags.keepFree, '--keep-free'),
    signalName: parseSignal(flags.signal),
    toxics,
  };
  if (flags.serverCmd === undefined && (flags.serverCwd !== undefined || flags.serverEnv !== undefined || flags.serverUrlTemplate !== undefined)) {
    throw new UsageError('--server-cwd, --server-env and --server-url-template go with --server-cmd');
  }
  if (flags.serverCmd !== undefined && app.globals.url !== undefined) throw new UsageError('--server-cmd runs the target itself; it cannot be combined with --url');
  if (flags.dependency !== undefined) {
    if (flags.serverCmd === undefined) throw new UsageError('--dependency goes with --server-cmd: govctl points the server at the dependency through {proxy}');
    const command = [flags.serverCmd, ...(flags.serverEnv ?? [])].join(' ');
    if (!command.includes('{proxy}')) {
      throw new UsageError('--dependency needs {proxy} in --server-cmd or a --server-env value, where the server takes its dependency address', {
        hint: 'e.g. --server-cmd "python -m app --port {port}" --server-env DATABASE_ADDR={proxy}',
      });
    }
    parseHostPort(flags.dependency);
  }
  await ensureWritableDir(out, '--out');
  return { out, probes, options, trafficRate };
}

/** "db.internal:5432" or "[::1]:6379" -> host and port. */
function parseHostPort(text: string): { host: string; port: number } {
  const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new UsageError(`invalid --dependency "${text}": expected HOST:PORT, e.g. 127.0.0.1:5432`);
  return { host: match[1]!, port };
}

/**
 * The target as a Target (what app.clientFor takes) and as a ChaosTarget (what the probes take),
 * and the dependency proxy when --dependency puts one between the server and its dependency.
 */
async function chaosTarget(app: CliApp, flags: ChaosFlags): Promise<{ target: Target; chaos: ChaosTarget; dependencyProxy?: FaultProxy }> {
  if (flags.serverCmd === undefined) {
    const target = await app.target(EMBEDDED_SERVE_ARGS);
    const server = target.server;
    const chaos: ChaosTarget = {
      url: target.url,
      kind: target.kind,
      ...(target.adminKey !== undefined ? { adminKey: target.adminKey } : {}),
      ...(server ? { server } : {}),
      ...(server?.dataDir !== undefined ? { dataDir: server.dataDir } : {}),
    };
    return { target, chaos };
  }
  const { parseServerCommand, parseServerEnv, startServerCommand } = await import('../../chaos/server-command.js');
  const argv = parseServerCommand(flags.serverCmd);
  const extra = parseServerEnv(flags.serverEnv ?? []);
  const connection = await app.connection();
  const template = flags.serverUrlTemplate?.replace(/\/+$/, '');
  const host = template !== undefined ? hostOf(template) : undefined;
  const cwd = flags.serverCwd !== undefined ? resolve(app.io.cwd, flags.serverCwd) : undefined;
  let dependencyProxy: FaultProxy | undefined;
  if (flags.dependency !== undefined) {
    const { startFaultProxy } = await import('../../chaos/fault-proxy.js');
    dependencyProxy = await startFaultProxy({ upstream: parseHostPort(flags.dependency), signal: app.signal });
    const proxy = dependencyProxy;
    // Registered first, so it runs after the server is stopped (cleanups run newest first).
    app.onCleanup(() => proxy.close());
    app.info(`dependency ${flags.dependency} proxied at ${proxy.host}:${proxy.port} ({proxy})`);
  }
  app.info(`starting the server command: ${argv[0]}`);
  const server = await startServerCommand({
    ...(dependencyProxy ? { placeholders: { proxy: `${dependencyProxy.host}:${dependencyProxy.port}` } } : {}),
    argv,
    env: { PATH: app.io.env['PATH'], HOME: app.io.env['HOME'], ...extra },
    ...(cwd !== undefined ? { cwd } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(template !== undefined ? { healthUrl: `${template}/health` } : {}),
    signal: app.signal,
  });
  app.onCleanup(async () => {
    await server.dispose('SIGTERM', 5_000);
  });
  const adminKey = connection.adminKey;
  const target: Target = { url: server.url, kind: 'remote', ...(adminKey !== undefined ? { adminKey } : {}), release: async () => {} };
  return {
    target,
    chaos: { url: server.url, kind: 'managed', ...(adminKey !== undefined ? { adminKey } : {}), server },
    ...(dependencyProxy ? { dependencyProxy } : {}),
  };
}

/** The network probe's link for --dependency: toxics on the server's own dependency, the client URL unchanged. */
async function dependencyLink(proxy: FaultProxy): Promise<NonNullable<ChaosRunOptions['startLink']>> {
  const { startNetworkLink } = await import('../../chaos/probes/network.js');
  return (chaosTarget) => startNetworkLink(chaosTarget, { dependencyProxy: proxy });
}

function hostOf(template: string): string {
  try {
    return new URL(template.replace(/\{port\}/g, '1')).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new UsageError(`invalid --server-url-template "${template}": expected a URL such as http://127.0.0.1:{port}`);
  }
}

export async function chaosCommand(app: CliApp, flags: ChaosFlags): Promise<number> {
  const p = await plan(app, flags);
  const { target, chaos, dependencyProxy } = await chaosTarget(app, flags);
  const settings = await app.clientSettings();
  // One client per URL and binding: the network probe's proxy has its own URL.
  const clients = new Map<string, Promise<GovernanceClient>>();
  const clientFor = (url: string, bound: boolean): Promise<GovernanceClient> => {
    const key = `${bound}|${url}`;
    let client = clients.get(key);
    if (!client) {
      client = app.clientFor({ ...target, url }, { settings, ...(bound ? { signal: app.signal } : {}) });
      clients.set(key, client);
    }
    return client;
  };
  const { runChaos, chaosFailureReasons, selectProbes } = await import('../../chaos/runner.js');
  // A probe asked for that does not apply is bad input (exit 2), whether or not the server answers.
  await selectProbes(chaos, p.probes, { ...p.options, signal: app.signal });
  const client = await clientFor(chaos.url, true);
  await clientFor(chaos.url, false);
  // Unreachable or not a governance server: say so (exit 3) before creating anything.
  const health = await client.health();
  if (!health.healthy) app.warn(`${client.url} is not healthy before the run (HTTP ${health.http_status}); the probes will wait for a steady state`);

  const runId = newRunId();
  const quiet = app.globals.quiet;
  const printer = chaosProgressPrinter(app.io.stderr, app.io.stderrIsTTY === true);
  const onEvent = (event: ChaosEvent) => {
    if (event.type === 'warning') {
      printer.finish();
      app.warn(event.message);
    } else if (quiet) return;
    else if (event.type === 'phase') printer.phase(event);
    else printer.sample(event);
  };
  app.info(`chaos: against ${chaos.url} (${chaos.kind}${chaos.server ? `, pid ${chaos.server.pid}` : ''}), run ${runId}`);

  let report: ChaosReport;
  try {
    report = await runChaos({
      runId,
      target: chaos,
      ...(p.probes ? { probes: p.probes } : {}),
      probeOptions: p.options,
      trafficRate: p.trafficRate,
      clientFor,
      tls: { rejectUnauthorized: !app.globals.insecure, ...(settings.caCert !== undefined ? { ca: settings.caCert } : {}) },
      ...(dependencyProxy ? { startLink: await dependencyLink(dependencyProxy) } : {}),
      ...(health.version ? { version: health.version } : {}),
      signal: app.signal,
      onEvent,
    });
  } finally {
    printer.finish();
  }

  const { writeChaosReportFiles } = await import('../../chaos/report-files.js');
  const files = await writeChaosReportFiles(p.out, report);
  if (app.json) app.printJson(report);
  else app.print(renderChaosSummary(report, app));
  if (report.run.status === 'failed' || report.run.status === 'error') for (const reason of chaosFailureReasons(report)) app.warn(reason);
  app.info(`journal: ${files.json}`);

  if (report.run.status === 'interrupted') return ExitCode.interrupted;
  return report.run.status === 'passed' ? ExitCode.ok : ExitCode.failed;
}

function seconds(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)} s`;
}

/** One row per probe: status, detection, recovery against the budget, records, checks, the first reason. */
export function renderChaosSummary(report: ChaosReport, app: Pick<CliApp, 'style'>): string {
  const style = app.style;
  const colour = (status: string) =>
    styled(status === 'passed' ? style.green(status) : status === 'skipped' || status === 'interrupted' ? style.yellow(status) : style.red(status));
  const rows = report.data.probes.map((j) => [
    j.probe,
    colour(j.status),
    seconds(j.detection_s),
    `${seconds(j.recovery_s)} / ${j.budget_s} s`,
    j.records.status === 'measured' ? `${j.records.acknowledged} ack, ${j.records.lost} lost` : 'not measured',
    j.checks.length === 0 ? '-' : `${j.checks.filter((c) => c.passed).length}/${j.checks.length} passed`,
    j.reasons[0] ?? '',
  ]);
  return renderTable(['probe', 'status', 'detection', 'recovery / budget', 'records', 'checks', 'reason'], rows, style);
}
