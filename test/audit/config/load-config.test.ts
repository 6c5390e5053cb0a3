import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConfig } from '../../../src/audit/config/audit-config.js';
import { detectFormat, loadConfig, parseConfigText } from '../../../src/audit/config/load-config.js';
import { assessSecret } from '../../../src/audit/config/secrets-strength.js';
import { InvalidInputError } from '../../../src/core/errors.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/audit/config/', import.meta.url));
const KEY = new Uint8Array(32).fill(9);

async function rejection(promise: Promise<unknown>): Promise<InvalidInputError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  return err as InvalidInputError;
}

describe('audit --config: reading the file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-audit-load-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('corrupt YAML and JSON: exit 2, naming the file, line and column', async () => {
    const yaml = await rejection(auditConfig({ file: join(FIXTURES, 'corrupt.yaml'), env: {}, fingerprintKey: KEY }));
    expect(yaml.exitCode).toBe(2);
    expect(yaml.message).toMatch(/corrupt\.yaml:3:\d+: not valid YAML: /);
    const json = await rejection(auditConfig({ file: join(FIXTURES, 'corrupt.json'), env: {}, fingerprintKey: KEY }));
    expect(json.exitCode).toBe(2);
    expect(json.message).toMatch(/corrupt\.json:3:36: not valid JSON: /);
    // Cut short: the error is at the end.
    await writeFile(join(dir, 'cut.json'), '{\n  "auth": {\n');
    expect((await rejection(loadConfig(join(dir, 'cut.json')))).message).toMatch(/cut\.json:3:1: not valid JSON/);
  });

  it('a missing file, a directory, a top-level list and a bad .env line are clear errors (exit 2)', async () => {
    const missing = await rejection(auditConfig({ file: join(dir, 'nope.yaml'), env: {}, fingerprintKey: KEY }));
    expect(missing.message).toBe(`cannot read configuration file ${join(dir, 'nope.yaml')}: no such file`);
    expect(missing.exitCode).toBe(2);
    expect((await rejection(loadConfig(dir))).message).toContain('is a directory');
    await writeFile(join(dir, 'list.yaml'), '# x\n- auth\n- debug\n');
    expect((await rejection(loadConfig(join(dir, 'list.yaml')))).message).toBe(`${join(dir, 'list.yaml')}:2: expected a mapping of settings at the top level, found a list`);
    await writeFile(join(dir, 'bad.env'), 'DEBUG=false\nthis is not an assignment\n');
    expect((await rejection(loadConfig(join(dir, 'bad.env')))).message).toMatch(/bad\.env:2: expected KEY=value/);
    await writeFile(join(dir, 'open.env'), 'A=1\nB="never closed\n');
    expect((await rejection(loadConfig(join(dir, 'open.env')))).message).toMatch(/open\.env:2: B: the " quote is never closed/);
  });

  it('detects the format by name, then by content', () => {
    expect(detectFormat('x/app.JSON', '')).toBe('json');
    expect(detectFormat('app.yml', '{}')).toBe('yaml');
    expect(detectFormat('.env', '')).toBe('env');
    expect(detectFormat('prod.env', '')).toBe('env');
    expect(detectFormat('.env.local', '')).toBe('env');
    expect(detectFormat('settings', '  {"a": 1}')).toBe('json');
    expect(detectFormat('settings', '# c\nexport A=1\nB = 2\n')).toBe('env');
    expect(detectFormat('settings', 'a: 1\n')).toBe('yaml');
  });

  it('.env: export, quotes, escapes, multi-line values, comments; the last of a duplicate key wins', () => {
    const text = [
      'export A=plain value # comment',
      "B='single ${X} # kept'",
      'C="line\\nbreak \\"q\\""',
      'D="first',
      'second"',
      'A=again',
      'E=',
      'F=a#b',
    ].join('\n');
    const { entries } = parseConfigText(text, 'x.env');
    const byKey = Object.fromEntries(entries.map((e) => [e.keyPath, { value: e.value, line: e.line, interpolate: e.interpolate }]));
    expect(byKey).toEqual({
      B: { value: 'single ${X} # kept', line: 2, interpolate: false },
      C: { value: 'line\nbreak "q"', line: 3, interpolate: true },
      D: { value: 'first\nsecond', line: 4, interpolate: true },
      A: { value: 'again', line: 6, interpolate: true },
      E: { value: '', line: 7, interpolate: true },
      F: { value: 'a#b', line: 8, interpolate: true },
    });
  });

  it('YAML: lines of keys and list items, anchors and merge keys, an empty file', () => {
    const text = 'base: &base\n  enabled: false\nauth:\n  <<: *base\ncors:\n  origins:\n    - a\n    - "*"\n';
    const { entries } = parseConfigText(text, 'x.yaml');
    const auth = entries.find((e) => e.keyPath === 'auth.enabled')!;
    expect(auth).toMatchObject({ value: false, line: 2 });
    expect(entries.find((e) => e.keyPath === 'cors.origins')).toMatchObject({ value: ['a', '*'], line: 6, itemLines: [7, 8] });
    expect(parseConfigText('# nothing\n', 'empty.yaml').entries).toEqual([]);
  });
});

describe('audit --config: secret strength', () => {
  it('tells defaults, weak and strong secrets apart without returning them', () => {
    expect(assessSecret('ADMIN-SECRET-KEY-CHANGE-IN-PROD', 'admin')).toEqual({ kind: 'default', defaultValue: 'admin-secret-key-change-in-prod' });
    expect(assessSecret('keyboard cat', 'admin')).toEqual({ kind: 'default', defaultValue: 'keyboard cat' });
    expect(assessSecret('django-insecure-8f3k2j4h5g6f7d8s9a0', 'signing').kind).toBe('default');
    expect(assessSecret('admin-secret-key-change-in-prod-but-longer-now', 'admin')).toEqual({ kind: 'weak', reason: 'length 46, built on a well-known default' });
    expect(assessSecret('<your-admin-key-goes-here-please-replace>', 'admin')).toMatchObject({ kind: 'weak', reason: expect.stringContaining('placeholder') });
    expect(assessSecret('abc123', 'admin')).toEqual({ kind: 'weak', reason: 'length 6, shorter than 32 characters' });
    expect(assessSecret('abab'.repeat(10), 'signing')).toMatchObject({ kind: 'weak', reason: expect.stringContaining('low entropy (1.0 bits') });
    for (let i = 0; i < 50; i++) {
      expect(assessSecret(randomBytes(32).toString('base64'), 'admin')).toEqual({ kind: 'strong' });
      expect(assessSecret(randomBytes(32).toString('hex'), 'signing')).toEqual({ kind: 'strong' });
      expect(assessSecret(randomBytes(16).toString('hex'), 'signing')).toEqual({ kind: 'strong' });
    }
  });
});
