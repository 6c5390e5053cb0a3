import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/core/errors.js';
import { buildReport, newRunId, parseSchemaId, readReport, writeReport } from '../../src/core/report.js';

describe('reports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-report-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const run = () => ({ id: newRunId(), started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:00:01.500Z', status: 'passed' as const });

  /** Writes `value` as a report file and returns its path. */
  const file = async (name: string, value: unknown): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err as Error);

  it('reads back what writeReport wrote, with its kind and version', async () => {
    const report = buildReport('scan', run(), { findings: [] }, { url: 'http://127.0.0.1:1', kind: 'embedded' });
    const path = await writeReport(dir, 'scan', report);
    const read = await readReport(path, { kind: 'scan' });
    expect(read).toEqual({ kind: 'scan', version: 1, report });
    expect((await readReport(path)).kind).toBe('scan');
  });

  it('parses schema ids', () => {
    expect(parseSchemaId('govctl.load/v1')).toEqual({ kind: 'load', version: 1 });
    expect(parseSchemaId('govctl.load/v0')).toBeUndefined();
    expect(parseSchemaId('other.load/v1')).toBeUndefined();
  });

  it('refuses another kind, an unknown kind or version, naming the file, the path and what was expected', async () => {
    const load = await file('load.json', buildReport('load', run(), {}));
    const wrongKind = await failure(readReport(load, { kind: 'scan' }));
    expect(wrongKind).toBeInstanceOf(InvalidInputError);
    expect(wrongKind!.message).toBe(`report ${load} is invalid: $.schema: expected "govctl.scan/v1", found "govctl.load/v1"`);

    const v2 = await file('v2.json', { ...buildReport('scan', run(), {}), schema: 'govctl.scan/v2' });
    const newer = await failure(readReport(v2, { kind: 'scan' }));
    expect(newer).toBeInstanceOf(InvalidInputError);
    expect(newer!.message).toContain(`report ${v2} is invalid: $.schema: expected "govctl.scan/v1", found "govctl.scan/v2"`);
    expect(await readReport(v2, { kind: 'scan', schemaVersions: [1, 2] })).toMatchObject({ version: 2 });

    const unknown = await file('unknown.json', { ...buildReport('scan', run(), {}), schema: 'govctl.weather/v1' });
    const err = await failure(readReport(unknown));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err!.message).toContain('$.schema: expected "govctl.<kind>/v<N>" with a known kind (scan, load, chaos, audit, gate, release), found "govctl.weather/v1"');

    const none = await file('none.json', { hello: 'world' });
    expect((await failure(readReport(none)))!.message).toContain(`report ${none} is invalid: $.schema: expected`);
    const array = await file('array.json', []);
    expect((await failure(readReport(array)))!.message).toContain(`report ${array} is invalid: $: expected a report object`);
  });

  it('validates the envelope: every bad field named by its JSON path', async () => {
    const good = buildReport('scan', run(), {});
    const bad = await file('bad.json', {
      ...good,
      tool: { name: 'other', version: '1' },
      run: { ...good.run, started_at: 'yesterday', status: 'fine' },
      environment: { os: 'linux' },
      extra: true,
    });
    const err = await failure(readReport(bad, { kind: 'scan' }));
    expect(err).toBeInstanceOf(InvalidInputError);
    for (const problem of [
      `report ${bad} is invalid:`,
      '$: unknown field "extra"',
      '$.tool.name: must be equal to constant',
      '$.run.started_at: must match pattern',
      '$.run.status: must be one of "passed", "failed", "error", "interrupted"',
      '$.environment: missing required field "cpus"',
    ]) {
      expect(err!.message).toContain(problem);
    }
    const noData = await file('nodata.json', { ...good, data: undefined });
    expect((await failure(readReport(noData)))!.message).toContain('$: missing required field "data"');
  });

  it('says a missing report is not found (exit 5), and names a file that is not JSON or not readable', async () => {
    const missing = join(dir, 'nope.json');
    const notFound = await failure(readReport(missing));
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound!.message).toBe(`report ${missing} does not exist`);
    expect((notFound as NotFoundError).exitCode).toBe(5);

    const garbage = await file('garbage.json', '{ not json');
    const parse = await failure(readReport(garbage));
    expect(parse).toBeInstanceOf(InvalidInputError);
    expect(parse!.message).toContain(`report ${garbage} is not valid JSON`);

    const dirErr = await failure(readReport(dir));
    expect((dirErr as { exitCode?: number }).exitCode).toBe(2);
    expect(dirErr!.message).toContain(dir);

    if (process.getuid?.() !== 0) {
      const locked = await file('locked.json', buildReport('scan', run(), {}));
      await chmod(locked, 0o000);
      const denied = await failure(readReport(locked));
      expect(denied!.message).toContain(locked);
      expect(denied!.message).toContain('permission denied');
    }
  });
});
