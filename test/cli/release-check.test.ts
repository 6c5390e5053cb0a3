import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';
import { execa } from 'execa';
import { GOVCTL, type CliResult } from '../helpers/cli.js';

/**
 * `govctl release-check` end to end against the embedded reference server, in a small project of
 * its own (so the scans, SBOM and docs are this test's, not the repository's): the real steps as
 * govctl children (built bin), load runs cut to 1 s by the hidden --load-duration, bootstrap
 * skipped. Then --verify with the signing key, a tampered artifact, a wrong key; and bad input
 * refused (exit 2) before any step runs.
 */

let root: string;
let project: string;

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

/** govctl from the sources, in this process, with `project` as its working directory. */
async function govctlIn(cwd: string, args: string[]): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const io: CliIO = {
    stdout,
    stderr,
    stdin: new PassThrough().end(),
    env: { NO_COLOR: '1', HOME: '/nonexistent', PATH: process.env['PATH'] ?? '' },
    cwd,
    stdoutIsTTY: false,
    stdinIsTTY: false,
  };
  const exitCode = await run(['node', 'govctl', ...args], io);
  return { exitCode, stdout: out(), stderr: err() };
}

const README = `# demo

A small service used to test release-check. It has a quick start and nothing else of note.

## Quick start

Install the dependencies with npm and run the service on a free port of your choice.
Then call its health endpoint to see that it answers with a healthy status document.
Stop it with Ctrl-C when you are done; it keeps no state between two of its runs.
The configuration lives in environment variables that the runbook lists one by one.
`;
const DOC = (title: string) => `# ${title}

This document explains what an operator does when the service needs attention in production.
Every section names the symptom first, then the command that shows the cause of the problem.
The commands are safe to run at any time and never change the state of the running service.
When a command fails, its error line names the file or the server that could not be reached.
Keep this document beside the runbook of the governance server that the service depends on.
`;

const GATES = {
  name: 'test-release',
  total_score: { pass: '90%', warning: '75%' },
  gates: [
    { id: 'G1', name: 'coverage', metric: 'coverage.lines_pct', pass: ['>=75'] },
    { id: 'G2', name: 'latency', objectives: [{ metric: 'load.p99_ms', profile: 'normal', pass: ['<5000'] }, { metric: 'load.p99_ms', profile: 'burst', pass: ['<5000'] }] },
    { id: 'G4', name: 'chaos', key: true, objectives: [{ metric: 'chaos.recovery_s', pass: ['<=60'] }, { metric: 'chaos.records_lost', pass: ['==0'] }] },
    {
      id: 'G5',
      name: 'security',
      key: true,
      objectives: [
        { metric: 'security.findings', severity: 'high', sources: ['scan:secrets', 'scan:patterns', 'audit:sbom', 'audit:api'], pass: ['==0'] },
        { metric: 'security.sbom_valid', pass: ['==1'] },
      ],
    },
    { id: 'G6', name: 'observability', objectives: [{ metric: 'observability.series_missing', pass: ['==0'] }, { metric: 'observability.health_failures', pass: ['==0'] }] },
    {
      id: 'G8',
      name: 'docs',
      metric: 'docs.failing',
      docs: [
        { name: 'README quick start', path: ['README.md'], heading: 'quick ?start' },
        { name: 'runbook', path: ['docs/runbook.md'] },
        { name: 'troubleshooting', path: ['docs/troubleshooting.md'] },
      ],
      pass: ['==0'],
    },
  ],
};

const COVERAGE = { total: { lines: { total: 100, covered: 82, skipped: 0, pct: 82 }, statements: { total: 100, covered: 82, skipped: 0, pct: 82 } } };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'govctl-release-check-'));
  project = join(root, 'project');
  await mkdir(join(project, 'docs'), { recursive: true });
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'demo', version: '1.2.3', private: true }));
  await writeFile(
    join(project, 'package-lock.json'),
    JSON.stringify({ name: 'demo', version: '1.2.3', lockfileVersion: 3, requires: true, packages: { '': { name: 'demo', version: '1.2.3' } } }),
  );
  await writeFile(join(project, 'README.md'), README);
  await writeFile(join(project, 'docs', 'runbook.md'), DOC('Runbook'));
  await writeFile(join(project, 'docs', 'troubleshooting.md'), DOC('Troubleshooting'));
  await writeFile(join(root, 'gates.json'), JSON.stringify(GATES));
  await writeFile(join(root, 'coverage-summary.json'), JSON.stringify(COVERAGE));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('govctl release-check', () => {
  it('runs every step against the embedded server, evaluates the gates, signs the manifest; --verify detects tampering', async () => {
    const keys = join(root, 'keys');
    expect((await govctlIn(root, ['release', 'keygen', '--out', keys])).exitCode).toBe(0);
    const out = join(root, 'reports');
    const args = ['release-check', '--quick', '--skip-bootstrap', '--load-duration', '1s', '--gates', join(root, 'gates.json'), '--coverage', join(root, 'coverage-summary.json'), '--sign-key', join(keys, 'govctl-release.key'), '--out', out];
    const result = await govctlIn(project, [...args, '-o', 'json']);
    expect(result.stderr).toContain('[1/13] scan-secrets');
    expect(result.stderr).toContain('[13/13] gates');
    expect(result.exitCode, result.stderr).toBe(0);

    const json = JSON.parse(result.stdout) as { release_dir: string; version: string; steps: Array<{ name: string; status: string; reason?: string; command?: string }>; evaluation: { result: string; reason: string; gates: Array<{ id: string; result: string; reason: string }> } };
    const dir = join(out, 'release-1.2.3');
    expect(json.release_dir).toBe(dir);
    expect(json.version).toBe('1.2.3');
    const status = Object.fromEntries(json.steps.map((s) => [s.name, s.status]));
    expect(status).toEqual({
      'scan-secrets': 'passed',
      'scan-patterns': 'passed',
      'audit-sbom': 'passed',
      'audit-vulns': 'skipped',
      'audit-api': 'passed',
      'audit-config': 'skipped',
      'load-normal': expect.stringMatching(/passed|failed/),
      'load-burst': expect.stringMatching(/passed|failed/),
      'chaos-restart': 'passed',
      observability: 'passed',
      bootstrap: 'skipped',
      coverage: 'passed',
      gates: 'passed',
    });
    const reasons = Object.fromEntries(json.steps.map((s) => [s.name, s.reason]));
    expect(reasons['audit-vulns']).toContain('no --osv-db');
    expect(reasons['audit-config']).toContain('no --config');
    // The admin key travels in the environment, never on a child's command line.
    for (const step of json.steps) expect(step.command ?? '').not.toMatch(/admin-key|gk_/i);
    expect(json.evaluation.result, json.evaluation.gates.map((g) => g.reason).join('\n')).toBe('pass');
    expect(json.evaluation.gates.map((g) => [g.id, g.result])).toEqual([
      ['G1', 'pass'],
      ['G2', 'pass'],
      ['G4', 'pass'],
      ['G5', 'pass'],
      ['G6', 'pass'],
      ['G8', 'pass'],
    ]);

    // The evidence: reports of every kind, release.json (G6 and G7 inputs), gate.json, JUnit, manifest + signature.
    const top = await readdir(dir);
    for (const name of ['scan', 'audit', 'load', 'chaos', 'coverage', 'release.json', 'gate.json', 'junit.xml', 'manifest.json', 'manifest.sig']) expect(top).toContain(name);
    const release = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as { schema: string; target: { kind: string }; data: { bootstrap_reason: string; observability: { status: string }; steps: unknown[] } };
    expect(release.schema).toBe('govctl.release/v1');
    expect(release.target.kind).toBe('embedded');
    expect(release.data.bootstrap_reason).toContain('--skip-bootstrap');
    expect(release.data.observability.status).toBe('measured');
    expect(await readFile(join(dir, 'junit.xml'), 'utf8')).toContain('<testsuite');
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { version: string; steps: Array<{ name: string }>; artifacts: Array<{ path: string }> };
    expect(manifest.version).toBe('1.2.3');
    expect(manifest.steps.map((s) => s.name)).toContain('gates');
    expect(manifest.artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(['release.json', 'gate.json', 'junit.xml', 'coverage/coverage-summary.json']));

    const pub = join(keys, 'govctl-release.pub');
    const verified = await govctlIn(root, ['release-check', '--verify', dir, '--public-key', pub]);
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('signed by the given key');

    // Another key pair: the signature is not the given key's.
    const other = join(root, 'other-keys');
    expect((await govctlIn(root, ['release', 'keygen', '--out', other])).exitCode).toBe(0);
    const wrong = await govctlIn(root, ['release-check', '--verify', dir, '--public-key', join(other, 'govctl-release.pub')]);
    expect(wrong.exitCode).toBe(1);

    // A tampered artifact is named.
    await appendFile(join(dir, 'gate.json'), ' ');
    const tampered = await govctlIn(root, ['release-check', '--verify', dir, '--public-key', pub]);
    expect(tampered.exitCode).toBe(1);
    expect(tampered.stdout).toMatch(/gate\.json: .*(changed|size|SHA-256)/i);

    // The same version again: the evidence is not overwritten without --force (exit 2, nothing run).
    const again = await govctlIn(project, args);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('exists and is not empty');
    expect(again.stderr).not.toContain('[1/13]');
  }, 180_000);

  it('refuses an invalid gate file and an unreadable signing key (exit 2) before any step runs', async () => {
    const out = join(root, 'bad-input');
    const badGates = join(root, 'bad-gates.json');
    await writeFile(badGates, JSON.stringify({ gates: [{ id: 'G1', name: 'coverage', metric: 'coverage.lines_pct', pass: ['>>75'] }] }));
    const invalid = await govctlIn(project, ['release-check', '--quick', '--gates', badGates, '--out', out]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain(badGates);
    expect(invalid.stderr).not.toContain('[1/');
    expect(invalid.stderr).not.toContain('embedded reference server');

    const noKey = join(root, 'no-such.key');
    const unreadable = await govctlIn(project, ['release-check', '--quick', '--gates', join(root, 'gates.json'), '--sign-key', noKey, '--out', out]);
    expect(unreadable.exitCode).toBe(2);
    expect(unreadable.stderr).toContain(`cannot read private key ${noKey}`);
    expect(unreadable.stderr).not.toContain('[1/');
    await expect(stat(out)).rejects.toThrow();

    const verifyWithRunFlag = await govctlIn(project, ['release-check', '--verify', out, '--quick']);
    expect(verifyWithRunFlag.exitCode).toBe(2);
  });

  it('says once that a --url target is unreachable (exit 3), before any step runs', async () => {
    // A port that was just free: nothing listens there.
    const listener = createServer().listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    await new Promise((resolve) => listener.close(resolve));
    const out = join(root, 'unreachable');
    const result = await govctlIn(project, ['--url', `http://127.0.0.1:${port}`, 'release-check', '--gates', join(root, 'gates.json'), '--out', out]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`cannot reach 127.0.0.1:${port}`);
    expect(result.stderr).not.toContain('[1/');
    await expect(stat(out)).rejects.toThrow();
  });

  it('Ctrl-C: the running step is interrupted, the rest not run, release.json says interrupted, the manifest is written (exit 130)', async () => {
    const out = join(root, 'interrupted');
    const child = execa(process.execPath, [GOVCTL, 'release-check', '--skip-bootstrap', '--load-duration', '60s', '--gates', join(root, 'gates.json'), '--out', out, '--release-version', 'int'], {
      cwd: project,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NO_COLOR: '1' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    try {
      // Interrupted once the first load run is under way (its report and the embedded servers exist).
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          if (seen.includes('[7/13] load-normal:')) resolve();
        });
        child.once('exit', () => reject(new Error(`release-check ended before the load step: ${seen}`)));
      });
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(130);
      const dir = join(out, 'release-int');
      const release = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as { run: { status: string } };
      expect(release.run.status).toBe('interrupted');
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { steps: Array<{ name: string; status: string; reason?: string }> };
      const byName = Object.fromEntries(manifest.steps.map((s) => [s.name, s]));
      expect(byName['scan-secrets']!.status).toBe('passed');
      expect(byName['load-normal']).toMatchObject({ status: 'error', reason: 'interrupted' });
      for (const name of ['load-burst', 'chaos-restart', 'gates']) expect(byName[name]).toMatchObject({ status: 'skipped', reason: 'not run: interrupted' });
      expect(await readdir(dir)).not.toContain('gate.json');
      // The partial directory is consistent with its manifest.
      expect((await govctlIn(root, ['release-check', '--verify', dir])).exitCode).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
  }, 90_000);
});
