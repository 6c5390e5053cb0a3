import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl } from '../helpers/cli.js';

/** Files left anywhere under `dir` (temp files of a durable write would show here). */
async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('govctl scan: output paths and inputs that would make a scan look at nothing', () => {
  let dir: string;
  let project: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-scan-out-'));
    project = join(dir, 'project');
    await mkdir(project);
    await writeFile(join(project, 'a.py'), 'print("hello")\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('--out naming a file is a usage error (exit 2) before the scan, naming the path and cause', async () => {
    const file = join(dir, 'report.json');
    await writeFile(file, 'keep me\n');
    const result = await govctl(['scan', 'secrets', project, '--out', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`cannot use --out ${file}: it is a file, not a directory`);
    expect(result.stdout).toBe('');
  });

  it('--out under a file (cannot be created) is exit 2 with the cause; nothing is left behind', async () => {
    const bad = join(dir, 'report.json', 'sub');
    const result = await govctl(['scan', 'secrets', project, '--out', bad]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toMatch(/not a directory/);
    // The check came before the scan: no fingerprint key was even made, and no temp file is left.
    expect(await listAll(dir)).toEqual(['project', 'project/a.py', 'report.json']);
  });

  it('--write-baseline onto a directory is exit 2 before the scan', async () => {
    const result = await govctl(['scan', 'secrets', project, '--write-baseline', dir]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`cannot write ${dir}: it is a directory`);
  });

  it('a missing --out directory is created, the report written, and the report directory never scanned', async () => {
    const out = join(project, 'reports');
    await mkdir(join(project, 'src'), { recursive: true });
    await writeFile(join(project, 'src', 'config.env'), 'DB_PASSWORD=Winter2024!Prod\n');
    const first = await govctl(['scan', 'secrets', project, '--out', out, '-o', 'json', '--fail-on', 'medium']);
    expect(first.exitCode).toBe(1);
    // Whatever lies in the report directory is not scanned (a copied secret there included).
    await writeFile(join(out, 'notes.env'), 'DB_PASSWORD=Summer2025!Prod\n');
    const second = await govctl(['scan', 'secrets', project, '--out', out, '-o', 'json', '--fail-on', 'medium']);
    const report = JSON.parse(second.stdout);
    expect(report.data.findings.map((f: any) => f.location.file)).toEqual(['src/config.env']);
    expect(report.data.verdict).toMatchObject({ fail_on: 'medium', passed: false, failing: 1 });
    expect(report.data.summary.report_dirs_skipped).toBe(1);
    // Without --out, govctl's own run directories (<run-id>/) are still left out.
    const third = JSON.parse((await govctl(['scan', 'secrets', project, '-o', 'json'])).stdout);
    expect(third.data.findings.map((f: any) => f.location.file)).toEqual(['reports/notes.env', 'src/config.env']);
    expect(third.data.summary.report_dirs_skipped).toBe(2);
    expect((await readdir(out)).filter((n) => n !== 'notes.env').length).toBe(2);
    expect((await listAll(out)).filter((p) => p.endsWith('.tmp'))).toEqual([]);
    await rm(join(project, 'src'), { recursive: true });
    await rm(out, { recursive: true });
  });

  it('--max-file-size 0 is invalid (exit 2); an unreadable or missing root is exit 2 naming it', async () => {
    const zero = await govctl(['scan', 'secrets', project, '--max-file-size', '0']);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain('--max-file-size');
    const loop = join(dir, 'loop');
    await (await import('node:fs/promises')).symlink(loop, loop);
    const looped = await govctl(['scan', 'patterns', loop]);
    expect(looped.exitCode).toBe(2);
    expect(looped.stderr).toContain(`cannot scan ${loop}: too many symbolic links`);
  });
});
