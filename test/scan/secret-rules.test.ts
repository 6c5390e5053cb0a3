import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { loadSecretRules, type SecretRule } from '../../src/scan/rules/secret-rules.js';
import { createSecretsEngine } from '../../src/scan/secrets/engine.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-secret-rules-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rule = (over: Partial<SecretRule> = {}): SecretRule => ({
  id: 'acme-internal-token',
  title: 'ACME internal token',
  severity: 'high',
  regex: '\\b(acme_[a-z0-9]{24})\\b',
  keywords: ['acme_'],
  remediation: 'Rotate it in the ACME console.',
  ...over,
});

async function rulesFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function loadError(options: Parameters<typeof loadSecretRules>[0]): Promise<InvalidInputError> {
  const err = await loadSecretRules(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  expect((err as InvalidInputError).exitCode).toBe(2);
  return err as InvalidInputError;
}

describe('loadSecretRules', () => {
  it('loads the built-in rules: at least 40, unique ids, plain JSON', async () => {
    const set = await loadSecretRules();
    expect(set.rules.length).toBeGreaterThanOrEqual(40);
    const ids = set.rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(JSON.parse(JSON.stringify(set))).toEqual(set);
    expect(structuredClone(set)).toEqual(set);
    for (const id of ['aws-access-key-id', 'github-pat', 'private-key-rsa', 'generic-secret-assignment', 'govctl-api-token']) {
      expect(ids).toContain(id);
    }
  });

  it('adds the rules of a user file, and finds with them', async () => {
    const file = await rulesFile('extra.json', { rules: [rule()] });
    const set = await loadSecretRules({ extraRulesFile: file });
    expect(set.rules.at(-1)!.id).toBe('acme-internal-token');
    const engine = createSecretsEngine(set);
    const value = 'acme_' + 'k3j9x0q2m7v8b1n4c6z5l0p9';
    expect(engine.scan(`ACME=${value}`, 'x').map((m) => [m.rule, m.value])).toEqual([['acme-internal-token', value]]);
  });

  it('replaces a built-in rule with a user rule of the same id, in place', async () => {
    const builtin = await loadSecretRules();
    const index = builtin.rules.findIndex((r) => r.id === 'stripe-test-key');
    const file = await rulesFile('replace.json', {
      version: 1,
      rules: [rule({ id: 'stripe-test-key', severity: 'info', title: 'Stripe test key (ours)' })],
    });
    const set = await loadSecretRules({ extraRulesFile: file });
    expect(set.rules).toHaveLength(builtin.rules.length);
    expect(set.rules[index]).toMatchObject({ id: 'stripe-test-key', severity: 'info', title: 'Stripe test key (ours)' });
  });

  it('disables rules by id, built-in or the user file’s', async () => {
    const file = await rulesFile('extra2.json', { rules: [rule()] });
    const set = await loadSecretRules({ extraRulesFile: file, disable: ['jwt', 'acme-internal-token', 'jwt'] });
    const ids = set.rules.map((r) => r.id);
    expect(ids).not.toContain('jwt');
    expect(ids).not.toContain('acme-internal-token');
  });

  it('rejects unknown ids to disable, naming them', async () => {
    const err = await loadError({ disable: ['jwt', 'no-such-rule', 'nor-this'] });
    expect(err.message).toContain('no-such-rule');
    expect(err.message).toContain('nor-this');
    expect(err.message).not.toMatch(/\bjwt\b/);
  });

  it('names the file, JSON path and field of a schema error', async () => {
    const { regex: _regex, ...noRegex } = rule();
    const file = await rulesFile('missing.json', { rules: [rule({ id: 'ok-rule' }), noRegex] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain('$.rules[1]');
    expect(err.message).toContain('"regex"');
  });

  it.each([
    ['a bad severity', { severity: 'urgent' }, '$.rules[0].severity'],
    ['an upper-case keyword', { keywords: ['ACME_'] }, '$.rules[0].keywords[0]'],
    ['an empty keyword list', { keywords: [] }, '$.rules[0].keywords'],
    ['a bad id', { id: 'Bad Id' }, '$.rules[0].id'],
    ['a g flag', { flags: 'gi' }, '$.rules[0].flags'],
    ['an unknown field', { colour: 'red' }, 'unknown field "colour"'],
    ['a bad placeholder level', { placeholders: 'sometimes' }, '$.rules[0].placeholders'],
    ['a bad cwe', { cwe: '798' }, '$.rules[0].cwe'],
  ])('rejects %s', async (_what, over, expected) => {
    const file = await rulesFile('bad-field.json', { rules: [{ ...rule(), ...over }] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain(expected);
  });

  it('rejects a regex that does not compile, naming the file, rule and regex error', async () => {
    const file = await rulesFile('bad-regex.json', { rules: [rule({ regex: '(acme_[a-z' })] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain('"acme-internal-token"');
    expect(err.message).toMatch(/invalid regex: .*(Unterminated|Invalid)/i);
  });

  it('rejects a regex that matches the empty string', async () => {
    const file = await rulesFile('empty-regex.json', { rules: [rule({ regex: '(acme_)?' })] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain('matches the empty string');
  });

  it('rejects an allowlist regex that does not compile', async () => {
    const file = await rulesFile('bad-allow.json', { rules: [rule({ allowlist: { regexes: ['ok', '(?i)[z-a]'] } })] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain('allowlist.regexes[1]');
  });

  it('rejects duplicate ids within one file', async () => {
    const file = await rulesFile('dup.json', { rules: [rule(), rule()] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain('$.rules[1].id');
    expect(err.message).toContain('duplicate');
  });

  it('rejects a file that is not JSON, or not there', async () => {
    const bad = await rulesFile('not-json.json', '{ "rules": [ ');
    expect((await loadError({ extraRulesFile: bad })).message).toContain('not valid JSON');
    const missing = join(dir, 'nope.json');
    expect((await loadError({ extraRulesFile: missing })).message).toContain(`cannot read rules file ${missing}: no such file`);
    expect((await loadError({ extraRulesFile: dir })).message).toContain('is a directory');
  });

  it('rejects a file without a rules array', async () => {
    const file = await rulesFile('shape.json', { secrets: [] });
    const err = await loadError({ extraRulesFile: file });
    expect(err.message).toContain('missing required field "rules"');
  });
});
