import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWellFormedApiToken, newApiToken, parseApiToken, redactApiToken } from '../../src/core/api-token.js';
import { writeFileDurable } from '../../src/core/durable-write.js';
import { parseDuration, parsePositiveDuration, parseRate } from '../../src/core/duration.js';
import { assertValid, compileSchema } from '../../src/core/schema.js';

describe('durations and rates', () => {
  it('parses units, and bare numbers as seconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('3')).toBe(3000);
    expect(() => parseDuration('soon', '--timeout')).toThrow('invalid --timeout "soon"');
  });

  it('refuses a zero timeout or interval where one must be positive', () => {
    expect(parsePositiveDuration('1ms', '--timeout')).toBe(1);
    for (const zero of ['0', '0ms', '0s', '0.0001s']) {
      expect(() => parsePositiveDuration(zero, '--timeout'), zero).toThrow(`invalid --timeout "${zero}": must be at least 1ms`);
    }
    expect(parseDuration('0s')).toBe(0);
  });

  it('parses rate limits', () => {
    expect(parseRate('100/60s')).toEqual({ limit: 100, windowMs: 60_000 });
    expect(parseRate('1000/m')).toEqual({ limit: 1000, windowMs: 60_000 });
    expect(() => parseRate('100')).toThrow('expected REQUESTS/WINDOW');
    expect(() => parseRate('0/1s')).toThrow('must be positive');
  });
});

describe('api tokens', () => {
  it('issues well-formed tokens and splits them on the last dot', () => {
    const t = newApiToken();
    expect(t.secret).toHaveLength(43);
    expect(isWellFormedApiToken(t.token)).toBe(true);
    expect(parseApiToken(`a.b.${t.secret}`)).toMatchObject({ keyId: 'a.b', secret: t.secret });
    expect(parseApiToken('nodot')).toBeUndefined();
    expect(parseApiToken('trailing.')).toBeUndefined();
    expect(isWellFormedApiToken(`${t.keyId}.short`)).toBe(false);
    expect(redactApiToken(t.token)).toBe(`${t.keyId}.****`);
    expect(redactApiToken(t.token)).not.toContain(t.secret);
  });
});

describe('schema validation', () => {
  const validate = compileSchema<{ name: string; items: Array<{ n: number }> }>({
    type: 'object',
    required: ['name', 'items'],
    additionalProperties: false,
    properties: {
      name: { type: 'string' },
      items: { type: 'array', items: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
    },
  });

  it('names the source, the JSON path and every problem', () => {
    expect(() => assertValid(validate, { items: [{ n: 'x' }], extra: 1 }, 'profile p.json')).toThrow(
      'profile p.json is invalid: $: missing required field "name"; $: unknown field "extra"; $.items[0].n: must be number',
    );
    expect(assertValid(validate, { name: 'a', items: [] }, 'x')).toEqual({ name: 'a', items: [] });
  });
});

describe('writeFileDurable', () => {
  it('replaces content whole, with the asked mode, leaving no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'govctl-atomic-'));
    const path = join(dir, 'sub', 'f.json');
    await writeFileDurable(path, 'one', { mode: 0o600 });
    await writeFileDurable(path, 'two', { mode: 0o600 });
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sub'))).toEqual(['f.json']);
    await rm(dir, { recursive: true, force: true });
  });
});
