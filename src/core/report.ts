import { randomUUID } from 'node:crypto';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { writeFileDurable } from './durable-write.js';
import { govctlVersion } from './version.js';

export type RunStatus = 'passed' | 'failed' | 'error' | 'interrupted';

export interface ReportTarget {
  url: string;
  kind: 'embedded' | 'remote';
  version?: string;
}

export interface ReportEnvelope<T> {
  schema: string;
  tool: { name: 'govctl'; version: string };
  run: { id: string; started_at: string; finished_at: string; status: RunStatus };
  target?: ReportTarget;
  environment: { os: string; cpus: number; node: string };
  data: T;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomUUID().slice(0, 8)}`;
}

export function buildReport<T>(
  kind: string,
  run: ReportEnvelope<T>['run'],
  data: T,
  target?: ReportTarget,
): ReportEnvelope<T> {
  return {
    schema: `govctl.${kind}/v1`,
    tool: { name: 'govctl', version: govctlVersion() },
    run,
    ...(target ? { target } : {}),
    environment: { os: `${platform()} ${release()}`, cpus: cpus().length, node: process.version },
    data,
  };
}

/** Writes `<dir>/<run-id>/<kind>.json` atomically and returns its path. */
export async function writeReport<T>(dir: string, kind: string, report: ReportEnvelope<T>): Promise<string> {
  const path = join(dir, report.run.id, `${kind}.json`);
  await writeFileDurable(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
