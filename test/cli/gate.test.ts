import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { readReport } from '../../src/core/report.js';
import { compileSchema } from '../../src/core/schema.js';
import { loadGateFile } from '../../src/gate/schema.js';
import type { GateEvaluation } from '../../src/gate/types.js';
import { removeDir, tempDir, writeLoad } from '../fixtures/gate/reports.js';
import { sarifValidator } from '../gate/reporters/sarif-schema.js';
import { writeFixtureReports } from '../gate/reporters/evaluation.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/gate/', import.meta.url));

/** govctl from the sources, in `cwd` (runInProcess runs in the repo; gates read paths relative to cwd). */
async function govctl(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const exitCode = await run(['node', 'govctl', ...args], {
    stdout,
    stderr,
    stdin: new PassThrough().end(),
    env: { NO_COLOR: '1', HOME: '/nonexistent', ...env },
    cwd,
    stdoutIsTTY: false,
    stdinIsTTY: false,
  });
  return { exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** A one-gate file: p99 of the normal profile, pass < 800, warning < 1000. */
async function latencyGate(cwd: string): Promise<string> {
  const path = join(cwd, 'latency.json');
  // A warned gate scores half: 50% warns the evaluation (it does not fail it).
  const gate = { id: 'L1', name: 'latency', metric: 'load.p99_ms', profile: 'normal', pass: ['<800'], warning: ['<1000'] };
  await writeFile(path, JSON.stringify({ name: 'latency', total_score: { pass: '90%', warning: '50%' }, gates: [gate] }));
  return path;
}

async function gateReports(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const run of await readdir(dir)) if ((await readdir(join(dir, run)).catch((): string[] => [])).includes('gate.json')) found.push(join(dir, run, 'gate.json'));
  return found;
}

describe('govctl gate', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await tempDir('govctl-gate-cli-');
  });
  afterEach(async () => {
    await removeDir(cwd);
  });

  it('prints gate, measured value, criterion, result, source and timestamp, then the score and result; keeps gate.json', async () => {
    const { reports } = await writeFixtureReports(cwd);
    const result = await govctl(cwd, ['gate', '--gates', 'gates.json']);
    expect(result.exitCode).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^GATE\s+OBJECTIVE\s+VALUE\s+CRITERION\s+RESULT\s+SOURCE\s+TIMESTAMP$/);
    expect(lines[1]).toMatch(/^G1 latency\s+p99 latency \(profile normal\)\s+500 ms\s+pass: <800\s+PASS\s+reports\/run-\d+\/load\.json\s+2026-01-10 10:00:00Z$/);
    expect(lines[2]).toMatch(/^G2 burst latency\s+.*900 ms\s+pass: <800; warning: <1000\s+WARN\s+reports\/run-\d+\/load\.json\s+2026-01-10 10:05:00Z$/);
    expect(lines[3]).toMatch(/^G3 chaos recovery \(key\)\s+recovery time \(worst probe\)\s+not measured\s+pass: <=60\s+FAIL\s+-\s+-$/);
    expect(lines[4]).toMatch(/^G4 security\s+findings at or above high\s+2\s+pass: ==0\s+FAIL\s+reports\/run-\d+\/scan\.json/);
    expect(result.stdout).toContain('FAIL G3 chaos recovery: not measured: govctl chaos (no chaos journal under reports)');
    expect(result.stdout).toMatch(/\nscore [\d.]+% \(pass >= 90%, warning >= 75%\): 1 passed, 1 warned, 2 failed \(1 not measured\) of 4\n/);
    expect(result.stdout).toMatch(/\nresult: FAIL key gate G3 failed; score/);

    // The evaluation is kept as evidence beside the reports, and never read back as one.
    const kept = await gateReports(reports);
    expect(kept).toHaveLength(1);
    const { report } = await readReport<GateEvaluation>(kept[0]!, { kind: 'gate' });
    expect(report.run.status).toBe('failed');
    expect(report.data.gates.map((g) => g.result)).toEqual(['pass', 'warn', 'fail', 'fail']);
    expect(result.stderr).toMatch(/gate report: reports\/[0-9TZ]+-[0-9a-f]{8}\/gate\.json/);
    const again = await govctl(cwd, ['gate', '--gates', 'gates.json', '--no-out', '-o', 'json']);
    expect(again.exitCode).toBe(1);
    expect(JSON.parse(again.stdout).data.reports.used).toHaveLength(3);
    expect(await gateReports(reports)).toHaveLength(1);
  });

  it('exit codes: pass 0, warn 0, warn with --strict 1, fail 1, not measured 1 naming the command', async () => {
    const gates = await latencyGate(cwd);
    const reports = join(cwd, 'reports');
    await mkdir(reports);
    const notMeasured = await govctl(cwd, ['gate', '--gates', gates, '--no-out']);
    expect(notMeasured.exitCode).toBe(1);
    expect(notMeasured.stdout).toContain('not measured: govctl load --profile normal (no load report of profile "normal" under reports)');

    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 700 });
    expect((await govctl(cwd, ['gate', '--gates', gates, '--no-out'])).exitCode).toBe(0);

    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-11T10:00:00Z', p99: 900 });
    const warn = await govctl(cwd, ['gate', '--gates', gates, '--no-out']);
    expect(warn.exitCode).toBe(0);
    expect(warn.stdout).toMatch(/L1 latency .* WARN /);
    const strict = await govctl(cwd, ['gate', '--gates', gates, '--no-out', '--strict']);
    expect(strict.exitCode).toBe(1);
    expect(strict.stdout).toContain('(--strict: warnings fail)');

    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-12T10:00:00Z', p99: 1200 });
    const fail = await govctl(cwd, ['gate', '--gates', gates, '--no-out']);
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toContain('FAIL L1 latency: p99 latency (profile normal): 1200 ms, needs < 800 ms; warning needs < 1000 ms');
  });

  it('bad input is exit 2: an invalid gate file (file and path), an unknown report version, a missing reports dir', async () => {
    await mkdir(join(cwd, 'reports'));
    const invalid = await govctl(cwd, ['gate', '--gates', join(FIXTURES, 'bad-fields.json')]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain(`gate file ${join(FIXTURES, 'bad-fields.json')} is invalid`);
    expect(invalid.stderr).toContain('$.gates[0]: unknown field "colour"');

    const gates = await latencyGate(cwd);
    const future = join(cwd, 'reports', 'run-x', 'load.json');
    await mkdir(join(cwd, 'reports', 'run-x'));
    const loadPath = await writeLoad(join(cwd, 'reports'), { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 10 });
    await writeFile(future, (await readFile(loadPath, 'utf8')).replace('"govctl.load/v1"', '"govctl.load/v9"'));
    const unknown = await govctl(cwd, ['gate', '--gates', gates]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain(`report ${future} is invalid: $.schema: expected "govctl.load/v1", found "govctl.load/v9"`);

    const missing = await govctl(cwd, ['gate', '--gates', gates, '--reports', 'nowhere']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`reports directory ${join(cwd, 'nowhere')} does not exist`);
    // --out defaults to the reports dir: it was not created on the way.
    await expect(stat(join(cwd, 'nowhere'))).rejects.toThrow();
  });

  it('writes JUnit, SARIF and code quality files; a bad destination fails before the evaluation', async () => {
    await writeFixtureReports(cwd);
    await mkdir(join(cwd, 'a-dir'));
    const bad = await govctl(cwd, ['gate', '--gates', 'gates.json', '--junit', 'a-dir']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('it is a directory');
    expect(await gateReports(join(cwd, 'reports'))).toHaveLength(0);

    const result = await govctl(cwd, ['gate', '--gates', 'gates.json', '--junit', 'junit.xml', '--sarif', 'gate.sarif', '--codequality', 'gl-code-quality.json']);
    expect(result.exitCode).toBe(1);
    const junit = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'testcase' }).parse(await readFile(join(cwd, 'junit.xml'), 'utf8'));
    const cases = junit.testsuites.testsuite.testcase as Array<{ '@_name': string; failure?: { '@_message': string } }>;
    expect(cases.map((c) => c['@_name'])).toEqual(['G1 latency', 'G2 burst latency', 'G3 chaos recovery', 'G4 security']);
    expect(cases[2]!.failure!['@_message']).toBe('not measured: govctl chaos (no chaos journal under reports)');

    const sarif = JSON.parse(await readFile(join(cwd, 'gate.sarif'), 'utf8'));
    const validate = await sarifValidator();
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(sarif.runs[0].results).toHaveLength(2);

    const issues = JSON.parse(await readFile(join(cwd, 'gl-code-quality.json'), 'utf8')) as Array<Record<string, unknown>>;
    expect(issues.map((i) => i['check_name'])).toEqual(['govctl-gate/G2', 'govctl-gate/G3', 'govctl-gate/G4', 'aws-access-key-id', 'admin-route-open']);
    const g2Line = (await readFile(join(cwd, 'gates.json'), 'utf8')).split('\n').findIndex((l) => l.includes('"id": "G2"')) + 1;
    expect(issues[0]).toMatchObject({ type: 'issue', severity: 'minor', location: { path: 'gates.json', lines: { begin: g2Line } } });

    // -o sarif prints the same log to stdout.
    const stdoutSarif = await govctl(cwd, ['gate', '--gates', 'gates.json', '--no-out', '-o', 'sarif']);
    expect(JSON.parse(stdoutSarif.stdout).runs[0].results).toHaveLength(2);
  });

  it('in GitHub Actions: appends a Markdown table to $GITHUB_STEP_SUMMARY and writes annotations to stderr', async () => {
    await writeFixtureReports(cwd);
    const summary = join(cwd, 'summary.md');
    await writeFile(summary, '# earlier step\n');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary };
    const first = await govctl(cwd, ['gate', '--gates', 'gates.json', '--no-out', '-o', 'json'], env);
    expect(first.exitCode).toBe(1);
    // stdout stays the result: the JSON envelope parses as it is.
    expect(JSON.parse(first.stdout).schema).toBe('govctl.gate/v1');
    expect(first.stderr).toContain('::error title=govctl gate G3 chaos recovery%3A FAIL (key gate)::not measured: govctl chaos');
    expect(first.stderr).toMatch(/::warning title=govctl gate G2 burst latency%3A WARN::/);
    await govctl(cwd, ['gate', '--gates', 'gates.json', '--no-out', '-q'], env);
    const text = await readFile(summary, 'utf8');
    expect(text.startsWith('# earlier step\n')).toBe(true);
    expect(text.match(/^\| gate \| value \| criterion \| result \| detail \|$/gm)).toHaveLength(2);
    expect(text.match(/^### govctl gate: ci ❌ FAIL$/gm)).toHaveLength(2);

    const local = await govctl(cwd, ['gate', '--gates', 'gates.json', '--no-out']);
    expect(local.stderr).not.toContain('::');
    expect(await readFile(summary, 'utf8')).toBe(text);
  });
});

describe('govctl gate init', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await tempDir('govctl-gate-init-');
  });
  afterEach(async () => {
    await removeDir(cwd);
  });

  it('writes a starter gate file and its sidecar schema; refuses to overwrite without --force', async () => {
    const first = await govctl(cwd, ['gate', 'init']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe('wrote govctl-gates.json and its JSON Schema govctl-gates.schema.json\n');
    const starter = JSON.parse(await readFile(join(cwd, 'govctl-gates.json'), 'utf8'));
    expect(starter.$schema).toBe('./govctl-gates.schema.json');
    const schema = JSON.parse(await readFile(join(cwd, 'govctl-gates.schema.json'), 'utf8'));
    expect(compileSchema(schema)(starter)).toBe(true);
    const loaded = await loadGateFile('govctl-gates.json', { cwd });
    expect(loaded.gates.map((g) => g.id)).toEqual(['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7', 'G8']);

    await writeFile(join(cwd, 'govctl-gates.json'), '{"edited": true}\n');
    const again = await govctl(cwd, ['gate', 'init']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`cannot write ${join(cwd, 'govctl-gates.json')}: it already exists`);
    expect(await readFile(join(cwd, 'govctl-gates.json'), 'utf8')).toBe('{"edited": true}\n');

    const forced = await govctl(cwd, ['gate', 'init', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(JSON.parse(await readFile(join(cwd, 'govctl-gates.json'), 'utf8')).name).toBe('my-release');
  });

  it('--out names the file (its directory is created) and the schema goes beside it', async () => {
    const result = await govctl(cwd, ['gate', 'init', '--out', 'ci/gates.json', '-o', 'json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ gates_file: join(cwd, 'ci', 'gates.json'), schema_file: join(cwd, 'ci', 'gates.schema.json') });
    expect(JSON.parse(await readFile(join(cwd, 'ci', 'gates.json'), 'utf8')).$schema).toBe('./gates.schema.json');
    await expect(stat(join(cwd, 'govctl-gates.json'))).rejects.toThrow();
  });
});
