import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport } from '../../src/core/report.js';
import { renderLoadReportFiles, writeLoadReportFiles } from '../../src/load/report-files.js';
import { renderLoadHtml } from '../../src/load/report-html.js';
import { renderLoadMarkdown } from '../../src/load/report-markdown.js';
import { buildLoadReportFixture } from './fixtures/load-report.js';

describe('load report files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-load-files-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const report = buildLoadReportFixture({ profile: 'normal', seconds: 5 });

  it('writes load.json, load.md and load.html under <dir>/<run-id>/, leaving no temp files', async () => {
    const files = await writeLoadReportFiles(join(dir, 'reports'), report);
    const runDir = join(dir, 'reports', report.run.id);
    expect(files).toEqual({ json: join(runDir, 'load.json'), markdown: join(runDir, 'load.md'), html: join(runDir, 'load.html') });
    expect((await readdir(runDir)).sort()).toEqual(['load.html', 'load.json', 'load.md']);
    expect((await readReport(files.json, { kind: 'load' })).report).toEqual(report);
    expect(await readFile(files.markdown, 'utf8')).toBe(renderLoadMarkdown(report));
    expect(await readFile(files.html, 'utf8')).toBe(renderLoadHtml(report));
  });

  it('re-renders a saved report next to it, or into another directory', async () => {
    const { json } = await writeLoadReportFiles(join(dir, 'again'), report);
    const beside = await renderLoadReportFiles(json, { formats: ['html'] });
    expect(beside.html).toBe(join(dir, 'again', report.run.id, 'load.html'));
    expect(beside.markdown).toBeUndefined();
    expect(await readFile(beside.html!, 'utf8')).toBe(renderLoadHtml(report));

    const out = join(dir, 'elsewhere');
    const moved = await renderLoadReportFiles(json, { outDir: out });
    expect(moved).toMatchObject({ html: join(out, 'load.html'), markdown: join(out, 'load.md') });
    expect((await readdir(out)).sort()).toEqual(['load.html', 'load.md']);
  });

  it('refuses a file that is not a load report, naming it', async () => {
    const { json } = await writeLoadReportFiles(join(dir, 'bad'), { ...report, schema: 'govctl.scan/v1' });
    await expect(renderLoadReportFiles(json)).rejects.toThrow(/load\.json.*\$\.schema: expected "govctl\.load\/v1"/);
  });
});
