import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, InvalidInputError } from '../../src/core/errors.js';
import { starterGateFile } from '../../src/gate/init.js';
import { Ajv } from 'ajv';
import { readFile } from 'node:fs/promises';
import { gateFileJsonSchema, loadGateFile, parseGateFile, RELEASE_GATES_FILE } from '../../src/gate/schema.js';
import { removeDir, tempDir } from '../fixtures/gate/reports.js';

const fixtures = new URL('../fixtures/gate/', import.meta.url).pathname;

function problem(value: unknown): string {
  try {
    parseGateFile(value, 'gates.json');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(ExitCode.usage);
    return (err as Error).message;
  }
  throw new Error('expected the gate file to be refused');
}

const gate = (extra: Record<string, unknown>) => ({ gates: [{ id: 'G1', name: 'g', ...extra }] });

describe('gate files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('loads the shipped release set G1..G8 by name', async () => {
    const file = await loadGateFile('release', { cwd: dir });
    expect(file.source).toBe(RELEASE_GATES_FILE);
    expect(file.gates.map((g) => g.id)).toEqual(['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7', 'G8']);
    expect(file.gates.filter((g) => g.key).map((g) => g.id)).toEqual(['G4', 'G5']);
    expect(file.total_score).toEqual({ pass: 90, warning: 75 });
    const g2 = file.gates[1]!;
    expect(g2.objectives.map((o) => [o.metric, o.filter.profile, o.pass.text])).toEqual([
      ['load.p99_ms', 'normal', '<800'],
      ['load.p99_ms', 'burst', '<800'],
    ]);
    expect(file.gates[2]!.objectives.map((o) => `${o.filter.profile} ${o.pass.text}`)).toEqual(['normal <1', 'burst <1', 'soak <0.2']);
  });

  it('accepts the commented starter file, overrides expanded Jest-style', () => {
    const file = parseGateFile(JSON.parse(starterGateFile()), 'starter');
    const coverage = file.gates[0]!.objectives;
    expect(coverage.map((o) => o.filter)).toEqual([{ exclude: ['src/core/'] }, { path: 'src/core/' }]);
    expect(coverage[0]!.warning?.text).toBe('>=70');
    expect(file.gates[1]!.objectives[0]!.pass.text).toBe('<800 or <=+10%');
    expect(file.gates.find((g) => g.id === 'G8')!.objectives[0]!.filter.docs![0]).toMatchObject({ paths: ['README.md'], min_bytes: 300, min_prose_lines: 5 });
  });

  it('exports its JSON Schema for editors; the shipped and starter files validate against it', async () => {
    const validate = new Ajv({ strict: false, allowUnionTypes: true }).compile(gateFileJsonSchema());
    expect(validate(JSON.parse(await readFile(RELEASE_GATES_FILE, 'utf8')))).toBe(true);
    expect(validate(JSON.parse(starterGateFile()))).toBe(true);
    expect(validate({ gates: [{ id: 'x', name: 'x', metric: 'nope', pass: ['<1'] }] })).toBe(false);
  });

  it('reads a file relative to cwd; a missing one is bad input', async () => {
    await writeFile(join(dir, 'g.json'), JSON.stringify(gate({ metric: 'bootstrap.seconds', pass: ['<=600'] })));
    expect((await loadGateFile('g.json', { cwd: dir })).gates[0]!.weight).toBe(1);
    await expect(loadGateFile('missing.json', { cwd: dir })).rejects.toThrow(/cannot read gate file .*missing\.json: no such file/);
    await writeFile(join(dir, 'broken.json'), '{"gates": [');
    await expect(loadGateFile('broken.json', { cwd: dir })).rejects.toThrow(/gate file .*broken\.json is not valid JSON/);
  });

  it('names the file, the JSON path and the gate of a bad criterion', async () => {
    const err = await loadGateFile(join(fixtures, 'bad-criterion.json'), { cwd: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toContain('bad-criterion.json is invalid');
    expect((err as Error).message).toContain('$.gates[1].objectives[0].pass[1][0]: "<<5" is not a criterion');
    expect((err as Error).message).toContain('(gate G2)');
  });

  it('names every bad field the schema finds', async () => {
    const message = ((await loadGateFile(join(fixtures, 'bad-fields.json'), { cwd: dir }).catch((e: unknown) => e)) as Error).message;
    expect(message).toContain('bad-fields.json is invalid');
    expect(message).toContain('$.gates[0]: unknown field "colour"');
    expect(message).toContain('$.gates[0].weight: must be >= 0');
    expect(message).toContain('$.gates[1]: missing required field "name"');
  });

  it('checks each metric\'s filters, ids, and where relative criteria can apply', () => {
    expect(problem(gate({ metric: 'load.p99_ms', pass: ['<800'] }))).toContain('$.gates[0]: metric load.p99_ms needs "profile" (gate G1)');
    expect(problem(gate({ metric: 'load.p99_ms', profile: 'normal', probe: 'restart', pass: ['<800'] }))).toContain(
      '$.gates[0].probe: metric load.p99_ms does not take "probe" (it takes: profile, endpoint)',
    );
    expect(problem(gate({ metric: 'docs.failing', docs: [{ path: 'README.md' }], pass: ['<=+1'] }))).toContain('measured live and has no baseline');
    expect(problem(gate({ metric: 'load.p99_ms', profile: 'normal' }))).toContain('$.gates[0]: missing required field "pass"');
    expect(problem(gate({}))).toContain('missing required field "metric" (or "objectives")');
    expect(problem(gate({ metric: 'bootstrap.seconds', pass: ['<=600'], objectives: [{ metric: 'bootstrap.seconds', pass: ['<1'] }] }))).toContain('has both "objectives" and "metric", "pass"');
    expect(problem(gate({ metric: 'load.p99_ms', profile: 'normal', pass: ['<800', ['<1']] }))).toContain('$.gates[0].pass: mixes strings and lists');
    expect(problem(gate({ metric: 'load.p99_ms', profile: 'normal', pass: ['<80%'] }))).toContain('this metric is in ms');
    expect(problem(gate({ metric: 'chaos.recovery_s', pass: ['<60'], overrides: [{ path: 'x', pass: ['<1'] }] }))).toContain('per-path overrides apply to coverage metrics only');
    expect(problem(gate({ metric: 'docs.failing', docs: [{ path: 'README.md', heading: '(' }], pass: ['==0'] }))).toContain('$.gates[0].docs[0].heading: "(" is not a regular expression');
    const twice = { gates: [{ id: 'G1', name: 'a', metric: 'bootstrap.seconds', pass: ['<1'] }, { id: 'G1', name: 'b', metric: 'bootstrap.seconds', pass: ['<1'] }] };
    expect(problem(twice)).toContain('$.gates[1].id: "G1" is already the id of $.gates[0]');
    expect(problem({ ...gate({ metric: 'bootstrap.seconds', pass: ['<1'] }), total_score: { pass: '70%', warning: '80%' } })).toContain('$.total_score.warning: 80% is above pass (70%)');
    expect(problem({ gates: [] })).toContain('$.gates: must NOT have fewer than 1 items');
    expect(problem(gate({ metric: 'nope', pass: ['<1'] }))).toContain('$.gates[0].metric: must be one of "coverage.lines_pct"');
  });
});
