import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { parsePositiveDuration } from '../../core/duration.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { ensureWritableDir, fileSystemError } from '../../core/fs-errors.js';
import { writeFileDurable } from '../../core/durable-write.js';
import { newRunId } from '../../core/report.js';
import { loadBaseline } from '../../load/baseline-compare.js';
import { failureReasons, runLoadEngine, type LoadEvent } from '../../load/engine.js';
import { keyIdsOf, keysFromInput } from '../../load/keys.js';
import { applyOverrides, loadProfile, parseArrivalRate } from '../../load/profile.js';
import { parseSegment, segmentProfile, segmentSeed } from '../../load/segment.js';
import { writeLoadReportFiles } from '../../load/report-files.js';
import { loadScenario } from '../../load/scenario.js';
import type { LoadReport } from '../../load/types.js';
import type { CliApp } from '../app.js';
import { progressPrinter } from '../render/load-progress.js';
import { renderLoadReport } from '../render/load-tables.js';

export interface LoadFlags {
  profile: string;
  duration?: string;
  vus?: string;
  rate?: string;
  scenario?: string;
  out: string;
  tag?: string[];
  seed?: string;
  baseline?: string;
  saveBaseline?: boolean;
  apiKey?: string[];
  segment?: string;
  workers: string;
  startAt?: string;
  maxVus?: string;
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`invalid ${flag} "${text}": expected a whole number of at least 1`);
  return Number(text);
}

function parseTags(tags: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) {
    const at = tag.indexOf('=');
    if (at <= 0) throw new UsageError(`invalid --tag "${tag}": expected key=value`);
    out[tag.slice(0, at)] = tag.slice(at + 1);
  }
  return out;
}

function parseStartAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`invalid --start-at "${text}": expected an ISO 8601 time such as 2026-12-02T10:00:00Z`);
  return at;
}

/** Existing keys, with the key ids the usage log is matched on (none when a token has no id). */
function givenKeys(flags: string[] | undefined, env: string | undefined): { tokens: string[]; keyIds: string[] } | undefined {
  const tokens = keysFromInput(flags, env);
  return tokens === undefined ? undefined : { tokens, keyIds: keyIdsOf(tokens) ?? [] };
}

/** The options that shape a run, read and checked before anything starts. */
async function plan(app: CliApp, flags: LoadFlags) {
  const cwd = app.io.cwd;
  const out = resolve(cwd, flags.out);
  await ensureWritableDir(out, '--out');
  let profile = await loadProfile(flags.profile, { cwd });
  profile = applyOverrides(profile, {
    ...(flags.duration !== undefined ? { durationMs: parsePositiveDuration(flags.duration, '--duration') } : {}),
    ...(flags.vus !== undefined ? { vus: positiveInt(flags.vus, '--vus') } : {}),
    ...(flags.rate !== undefined ? { rate: parseArrivalRate(flags.rate) } : {}),
    ...(flags.maxVus !== undefined ? { maxVus: positiveInt(flags.maxVus, '--max-vus') } : {}),
  });
  const segment = flags.segment !== undefined ? parseSegment(flags.segment) : null;
  const baseSeed = flags.seed !== undefined ? Number.parseInt(flags.seed, 10) : randomInt(1, 2 ** 31);
  if (!Number.isSafeInteger(baseSeed) || baseSeed < 0) throw new UsageError(`invalid --seed "${flags.seed}": expected a whole number`);
  if (segment) profile = segmentProfile(profile, segment.index, segment.count);
  const seed = segment ? segmentSeed(baseSeed, segment.index) : baseSeed;
  const scenario = await loadScenario(flags.scenario ?? profile.scenario, { cwd, seed });
  const workers = positiveInt(flags.workers, '--workers');
  const baselinePath =
    flags.baseline === 'auto' ? resolve(cwd, 'baselines', `${profile.name}.json`) : flags.baseline !== undefined ? resolve(cwd, flags.baseline) : undefined;
  const baselineData = baselinePath !== undefined ? await loadBaseline(baselinePath, { auto: flags.baseline === 'auto' }) : undefined;
  if (flags.baseline === 'auto' && baselineData === undefined) app.info(`no baseline yet at ${baselinePath}: nothing to compare (--save-baseline writes one)`);
  return {
    out,
    profile,
    scenario,
    segment,
    seed,
    workers,
    tags: parseTags(flags.tag),
    startAt: parseStartAt(flags.startAt),
    apiKeys: givenKeys(flags.apiKey, app.io.env.GOVCTL_API_KEYS),
    baseline: baselineData !== undefined && baselinePath !== undefined ? { data: baselineData, source: baselinePath } : undefined,
    baselinePath,
  };
}

export async function loadCommand(app: CliApp, flags: LoadFlags): Promise<number> {
  const p = await plan(app, flags);
  const { client, target } = await app.client('read', p.profile.embedded_serve_args);
  const settings = await app.clientSettings();
  const cleanupClient = await app.clientFor(target, { settings });
  // Unreachable, not a governance server, or unhealthy: say so before creating anything.
  const health = await client.health();
  if (!health.healthy) app.warn(`${client.url} is not healthy before the run (HTTP ${health.http_status}); the results will show it`);

  const runId = newRunId();
  const printer = progressPrinter(app.io.stderr, app.io.stderrIsTTY === true && !app.globals.quiet, p.profile.model);
  const onEvent = (event: LoadEvent) => {
    if (app.globals.quiet) return;
    if (event.type === 'progress') printer.progress(event);
    else if (event.type === 'warning') {
      printer.finish();
      app.warn(event.message);
    } else if (event.detail) {
      printer.finish();
      app.info(event.detail);
    }
  };
  app.info(
    `load: profile ${p.profile.name} (${p.profile.model} model), scenario ${p.scenario.name}, against ${client.url}${target.kind === 'embedded' ? ' (embedded)' : ''}, seed ${p.seed}`,
  );

  let report: LoadReport;
  try {
    report = await runLoadEngine({
      runId,
      profile: p.profile,
      scenario: p.scenario,
      target: { url: target.url, kind: target.kind, ...(target.server ? { server: target.server } : {}), ...(health.version ? { version: health.version } : {}) },
      client,
      admin: target.adminKey !== undefined,
      cleanupClient,
      ...(p.apiKeys ? { apiKeys: p.apiKeys } : {}),
      seed: p.seed,
      segment: p.segment,
      workers: p.workers,
      tags: p.tags,
      ...(p.startAt !== undefined ? { startAt: p.startAt } : {}),
      ...(p.baseline ? { baseline: p.baseline } : {}),
      rejectUnauthorized: !app.globals.insecure,
      ...(settings.caCert !== undefined ? { ca: settings.caCert } : {}),
      signal: app.signal,
      onEvent,
    });
  } finally {
    printer.finish();
  }

  const files = await writeLoadReportFiles(p.out, report);
  if (flags.saveBaseline && report.run.status !== 'interrupted') {
    const path = p.baselinePath ?? resolve(app.io.cwd, 'baselines', `${p.profile.name}.json`);
    await writeFileDurable(path, `${JSON.stringify(report, null, 2)}\n`).catch((err: unknown) => {
      throw fileSystemError(err, 'write baseline', path);
    });
    app.info(`baseline saved: ${path}`);
  }

  if (app.json) app.printJson({ report: files.json, html: files.html, markdown: files.markdown, status: report.run.status, ...report.data });
  else app.print(renderLoadReport(report, app.style));
  if (report.data.generator.bottleneck) {
    app.warn(`the load generator itself was a bottleneck (${report.data.generator.reasons.join('; ')}): the latency figures may be too high; use --workers, fewer VUs, or more CPU`);
  }
  if (report.run.status === 'failed') for (const reason of failureReasons(report.data)) app.warn(reason);
  app.info(`report: ${files.html}`);

  if (report.run.status === 'interrupted') return ExitCode.interrupted;
  if (p.segment && report.run.status === 'failed') {
    // One shard's figures are not the run's: thresholds and checks are judged once, on the merge.
    // A failing pod would also make Kubernetes stop the other shards of the Indexed Job.
    app.info('segment: checks are judged on the merged report (govctl report merge), not per shard');
    return ExitCode.ok;
  }
  return report.run.status === 'passed' ? ExitCode.ok : ExitCode.failed;
}
