import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePositiveDuration } from '../../src/core/duration.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { packageDataDir, PROFILES_DIR } from '../../src/load/data-files.js';
import { totalDurationMs } from '../../src/load/plan.js';
import { applyOverrides, listProfiles, loadProfile, parseArrivalRate, peakLevel } from '../../src/load/profile.js';
import { resolveProfile } from '../../src/load/profile-schema.js';
import { parseSegment, segmentProfile, segmentSeed } from '../../src/load/segment.js';
import type { ResolvedProfile } from '../../src/load/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-profile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function profileFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function inputError(run: () => unknown): Promise<InvalidInputError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(2);
    return err as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

const closed = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'p',
  model: 'closed',
  stages: [{ duration: '10s', vus: 5 }],
  ...extra,
});

const load = (name: string): Promise<ResolvedProfile> => loadProfile(name, { cwd: dir });

describe('the shipped profiles', () => {
  it('are listed and found from the package root, from src/ and dist/ alike', () => {
    expect(listProfiles()).toEqual(['burst', 'normal', 'soak', 'stress']);
    const root = join(PROFILES_DIR, '..');
    expect(packageDataDir(pathToFileURL(join(root, 'dist', 'load', 'data-files.js')), 'profiles')).toBe(PROFILES_DIR);
    expect(packageDataDir(pathToFileURL(join(root, 'src', 'load', 'data-files.ts')), 'scenarios')).toBe(join(root, 'scenarios/'));
  });

  it('normal ramps 10 -> 50 VUs over 60 s with p95 and error-rate thresholds and a high embedded limit', async () => {
    const normal = await load('normal');
    expect(normal).toMatchObject({
      name: 'normal',
      source: join(PROFILES_DIR, 'normal.json'),
      model: 'closed',
      start: 10,
      stages: [{ duration_ms: 60_000, vus: 50, ramp: true }],
      thresholds: { latency: ['p(95)<500'], errors: ['rate<0.01'] },
      scenario: 'governance-mix',
      timeout_ms: 10_000,
      embedded_serve_args: ['--rate-limit', '1000000/1s'],
    });
    expect(normal.warmup_ms).toBeGreaterThan(0);
    expect(normal.keys).toBeGreaterThan(1);
  });

  it('burst is 200 VUs for 10 s on one key against a low per-key limit, checking throttling', async () => {
    const burst = await load('burst');
    expect(burst).toMatchObject({ model: 'closed', keys: 1, analyses: ['throttling'], stages: [{ duration_ms: 10_000, vus: 200, ramp: false }] });
    expect(burst.embedded_serve_args).toEqual(['--rate-limit', '100/60s']);
    expect(Object.keys(burst.thresholds)).toEqual(['errors{status:5xx}']);
  });

  it('stress steps 50, 100, 200, 500 VUs for 10 s each; soak holds 50 VUs for an hour', async () => {
    const stress = await load('stress');
    expect(stress.stages.map((s) => s.vus)).toEqual([50, 100, 200, 500]);
    expect(stress.stages.every((s) => s.duration_ms === 10_000 && !s.ramp)).toBe(true);
    expect(stress.analyses).toEqual(['steps']);
    expect(stress.thresholds.latency).toContain('p(99)<1000');
    const soak = await load('soak');
    expect(soak.stages).toEqual([{ duration_ms: 3_600_000, vus: 50, ramp: false, label: '50 VUs' }]);
    expect(soak.analyses).toEqual(['drift', 'memory']);
  });
});

describe('profile files', () => {
  it('loads a path relative to cwd, fills defaults and resolves a scenario path against the profile file', async () => {
    await mkdir(join(dir, 'sub'), { recursive: true });
    await profileFile('sub/open.json', {
      $schema: 'x',
      name: 'open-one',
      model: 'open',
      stages: [{ duration: '500ms', rate: 100, ramp: true }, { duration: '1m', rate: 250.5 }],
      scenario: '../my-mix.json',
      embedded: { rate_limit: '10/1s', sync: 'normal', max_connections: 64 },
    });
    const profile = await load('sub/open.json');
    expect(profile).toEqual({
      name: 'open-one',
      source: join(dir, 'sub', 'open.json'),
      model: 'open',
      start: 0,
      stages: [
        { duration_ms: 500, rate: 100, ramp: true },
        { duration_ms: 60_000, rate: 250.5, ramp: false },
      ],
      warmup_ms: 0,
      max_vus: 51,
      keys: 10,
      scenario: join(dir, 'my-mix.json'),
      thresholds: {},
      analyses: [],
      timeout_ms: 10_000,
      embedded_serve_args: ['--rate-limit', '10/1s', '--sync', 'normal', '--max-connections', '64'],
    });
  });

  it('names the available profiles for an unknown name', async () => {
    const err = await inputError(() => load('strees'));
    expect(err.message).toBe('unknown profile "strees"');
    expect(err.hint).toContain('burst, normal, soak, stress');
  });

  it('names the file when it is missing or not JSON', async () => {
    expect((await inputError(() => load('./absent.json'))).message).toContain(join(dir, 'absent.json'));
    await profileFile('broken.json', '{"name": "x",');
    expect((await inputError(() => load('broken.json'))).message).toMatch(/profile .*broken\.json is not valid JSON/);
  });

  it('names the file and the JSON path of wrong types, all at once', async () => {
    const path = await profileFile('types.json', closed({ stages: [{ duration: 10, vus: '50' }], keys: 0, analyses: ['steps', 'nope'] }));
    const err = await inputError(() => load('types.json'));
    expect(err.message).toContain(`${path} is invalid`);
    for (const part of ['$.stages[0].duration: must be string', '$.stages[0].vus: must be integer', '$.keys: must be >= 1', '$.analyses[1]: must be one of']) {
      expect(err.message).toContain(part);
    }
  });

  it.each([
    ['a missing model', { name: 'p', stages: [{ duration: '1s', vus: 1 }] }, '$: missing required field "model"'],
    ['no stages', closed({ stages: [] }), '$.stages: must NOT have fewer than 1 items'],
    ['a closed stage without vus', closed({ stages: [{ duration: '1s', rate: 5 }] }), '$.stages[0]: missing "vus"'],
    ['a rate in a closed profile', closed({ stages: [{ duration: '1s', vus: 1, rate: 5 }] }), '$.stages[0].rate: "rate" belongs to the open model'],
    ['vus in an open profile', closed({ model: 'open', stages: [{ duration: '1s', vus: 5 }] }), '$.stages[0]: missing "rate"'],
    ['a bad duration', closed({ stages: [{ duration: '10 sec', vus: 1 }] }), '$.stages[0].duration: invalid duration "10 sec"'],
    ['a zero duration', closed({ stages: [{ duration: '0s', vus: 1 }] }), '$.stages[0].duration: must be at least 1ms'],
    ['a zero timeout', closed({ timeout: '0ms' }), '$.timeout: must be at least 1ms'],
    ['only zero levels', closed({ stages: [{ duration: '1s', vus: 0 }] }), 'at least one must be above 0'],
    ['a fractional start of VUs', closed({ start: 2.5 }), '$.start: must be a whole number'],
    ['a bad embedded rate limit', closed({ embedded: { rate_limit: 'lots' } }), '$.embedded.rate_limit: invalid rate limit "lots"'],
    ['an unknown field', closed({ stage: [] }), '$: unknown field "stage"'],
    ['a bad threshold expression', closed({ thresholds: { latency: ['p95 < 500'] } }), "$.thresholds['latency'][0]"],
    ['an unknown threshold metric', closed({ thresholds: { latncy: ['p(95)<500'] } }), 'unknown metric "latncy"'],
  ])('rejects %s', async (_what, content, message) => {
    const err = await inputError(() => resolveProfile(content, 'bad.json'));
    expect(err.message).toMatch(/^bad\.json is invalid: /);
    expect(err.message).toContain(message);
  });
});

describe('overrides', () => {
  it('scales every stage to a new total duration', async () => {
    const soak = applyOverrides(await load('soak'), { durationMs: 120_000 });
    expect(soak.stages[0]!.duration_ms).toBe(120_000);
    const stress = applyOverrides(await load('stress'), { durationMs: 10_001 });
    expect(stress.stages.map((s) => s.duration_ms)).toEqual([2500, 2501, 2500, 2500]);
    expect(totalDurationMs(stress)).toBe(10_001);
    expect(stress.stages[3]!.label).toBe('500 VUs');
  });

  it('scales VUs so the peak is the given number, keeping ramps and at least 1 VU', async () => {
    const normal = applyOverrides(await load('normal'), { vus: 100 });
    expect(normal.start).toBe(20);
    expect(normal.stages).toEqual([{ duration_ms: 60_000, vus: 100, ramp: true }]);
    const stress = applyOverrides(await load('stress'), { vus: 2 });
    expect(stress.stages.map((s) => s.vus)).toEqual([1, 1, 1, 2]);
    expect(peakLevel(stress)).toBe(2);
  });

  it('turns a closed profile into one constant-rate stage, capped at its peak VUs', async () => {
    const stress = applyOverrides(await load('stress'), { rate: 500, durationMs: 8000 });
    expect(stress.model).toBe('open');
    expect(stress.stages).toEqual([{ duration_ms: 8000, rate: 500, ramp: false }]);
    expect(stress.max_vus).toBe(500);
    expect(applyOverrides(await load('normal'), { rate: 20, vus: 7 }).max_vus).toBe(7);
    expect(applyOverrides(await load('normal'), { rate: 20, vus: 7, maxVus: 9 }).max_vus).toBe(9);
  });

  it('scales an open profile so its peak rate is the given one', () => {
    const open = resolveProfile({ name: 'o', model: 'open', start: 10, stages: [{ duration: '1s', rate: 100, ramp: true }, { duration: '1s', rate: 50 }] }, 'o.json');
    const scaled = applyOverrides(open, { rate: 300, maxVus: 12 });
    expect(scaled.start).toBe(30);
    expect(scaled.stages.map((s) => s.rate)).toEqual([300, 150]);
    expect(scaled.max_vus).toBe(12);
  });

  it('rejects a zero or negative duration, VUs or rate, and --vus on an open profile', async () => {
    const normal = await load('normal');
    for (const overrides of [{ durationMs: 0 }, { durationMs: -1 }, { vus: 0 }, { vus: 1.5 }, { rate: 0 }, { rate: -3 }, { maxVus: 0 }]) {
      await inputError(() => applyOverrides(normal, overrides));
    }
    expect((await inputError(() => applyOverrides(applyOverrides(normal, { rate: 5 }), { vus: 3 }))).hint).toContain('--rate');
    // The cli parses --duration with parsePositiveDuration: "-1" and "0" are input errors too.
    await inputError(() => parsePositiveDuration('-1', '--duration'));
    await inputError(() => parsePositiveDuration('0', '--duration'));
  });

  it('parses arrival rates into arrivals per second', async () => {
    expect(parseArrivalRate('500/s')).toBe(500);
    expect(parseArrivalRate('500')).toBe(500);
    expect(parseArrivalRate('30000/m')).toBe(500);
    expect(parseArrivalRate('2/ms')).toBe(2000);
    expect(parseArrivalRate('100/10s')).toBe(10);
    expect(parseArrivalRate(' 0.5/s ')).toBe(0.5);
    for (const bad of ['0', '0/s', '-1', 'abc', '', '5/x', '1/0s']) {
      const err = await inputError(() => parseArrivalRate(bad, '--rate'));
      expect(err.message).toContain(`invalid --rate "${bad}"`);
    }
  });
});

describe('segments', () => {
  it('parses 0-based INDEX/COUNT', async () => {
    expect(parseSegment('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseSegment('0/1')).toEqual({ index: 0, count: 1 });
    for (const bad of ['4/4', '1/0', '-1/4', '1', 'a/b', '1/4/2', '']) {
      expect((await inputError(() => parseSegment(bad))).message).toContain(`invalid segment "${bad}"`);
    }
  });

  it('splits VUs, keys and the cap exactly, remainders to the lowest indexes', async () => {
    const normal = applyOverrides(await load('normal'), { vus: 51 });
    const shards = [0, 1, 2, 3].map((i) => segmentProfile(normal, i, 4));
    expect(shards.map((s) => s.start)).toEqual([3, 3, 2, 2]);
    expect(shards.map((s) => s.stages[0]!.vus)).toEqual([13, 13, 13, 12]);
    expect(shards.map((s) => s.keys)).toEqual([3, 3, 2, 2]);
    expect(shards.every((s) => s.stages[0]!.label === '10->51 VUs')).toBe(true);
    const burst = await load('burst');
    expect([0, 1, 2].map((i) => segmentProfile(burst, i, 3).keys)).toEqual([1, 1, 1]);
    expect((await inputError(() => segmentProfile(burst, 3, 3))).message).toContain('invalid segment');
  });

  it('splits a rate into fractional shares with interleaving phases', async () => {
    const open = applyOverrides(await load('stress'), { rate: 100 });
    const shards = [0, 1, 2].map((i) => segmentProfile(open, i, 3));
    expect(shards.reduce((sum, s) => sum + s.stages[0]!.rate!, 0)).toBeCloseTo(100, 9);
    expect(shards.map((s) => s.arrival_phase)).toEqual([0, 1 / 3, 2 / 3]);
  });

  it('gives each shard its own seed, shard 0 keeping the run seed', () => {
    expect(segmentSeed(42, 0)).toBe(42);
    expect(new Set([42, segmentSeed(42, 1), segmentSeed(42, 2), segmentSeed(42, 3)]).size).toBe(4);
    expect(segmentSeed(42, 1)).toBe(segmentSeed(42, 1));
  });
});
