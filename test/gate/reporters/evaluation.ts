import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateGates } from '../../../src/gate/evaluate.js';
import { loadGateFile } from '../../../src/gate/schema.js';
import type { GateEvaluation } from '../../../src/gate/types.js';
import { finding, writeLoad, writeScan } from '../../fixtures/gate/reports.js';

/**
 * A real evaluation for the reporter tests, over fixture reports in `cwd`: one gate of each
 * outcome — G1 passes, G2 warns, G3 (a key gate) is not measured, G4 (security) fails on two
 * high findings (one in a file, one an HTTP exchange) and one medium it does not count.
 */
export const GATE_FILE = {
  name: 'ci',
  gates: [
    { id: 'G1', name: 'latency', metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] },
    { id: 'G2', name: 'burst latency', metric: 'load.p99_ms', profile: 'burst', pass: ['<800'], warning: ['<1000'] },
    { id: 'G3', name: 'chaos recovery', key: true, metric: 'chaos.recovery_s', pass: ['<=60'] },
    { id: 'G4', name: 'security', metric: 'security.findings', sources: ['scan:secrets'], pass: ['==0'] },
  ],
};

export async function writeFixtureReports(cwd: string): Promise<{ reports: string; gatesFile: string }> {
  const reports = join(cwd, 'reports');
  await mkdir(reports, { recursive: true });
  await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 500 });
  await writeLoad(reports, { profile: 'burst', finishedAt: '2026-01-10T10:05:00Z', p99: 900 });
  const http = { ...finding('high', 'admin-route-open', 'api', 2), location: { method: 'GET', url: 'http://127.0.0.1:1/admin' }, title: 'admin route answers without a key' };
  await writeScan(reports, 'secrets', '2026-01-10T10:10:00Z', [finding('high', 'aws-access-key-id', 'secret', 1), http, finding('medium', 'generic-password', 'secret', 3)]);
  const gatesFile = join(cwd, 'gates.json');
  await writeFile(gatesFile, `${JSON.stringify(GATE_FILE, null, 2)}\n`);
  return { reports, gatesFile };
}

export async function fixtureEvaluation(cwd: string): Promise<GateEvaluation> {
  const { reports, gatesFile } = await writeFixtureReports(cwd);
  return evaluateGates({ gates: await loadGateFile(gatesFile, { cwd }), reportsDir: reports, cwd, now: new Date('2026-01-11T00:00:00Z') });
}
