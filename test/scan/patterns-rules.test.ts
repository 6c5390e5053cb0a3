import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { createPatternsEngine, loadPatternRules, type PatternRule } from '../../src/scan/patterns/engine.js';

const good: PatternRule = {
  id: 'custom-danger',
  title: 'Custom dangerous call',
  severity: 'medium',
  languages: ['python', 'javascript'],
  keywords: ['danger'],
  regex: '\\bdanger\\s*\\(',
  remediation: 'Call safe() instead of danger().',
  cwe: 'CWE-676',
};

describe('pattern rules files', () => {
  let dir: string;
  let n = 0;
  const write = async (content: unknown): Promise<string> => {
    const file = join(dir, `rules-${++n}.json`);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  /** Loads with `file` and returns the InvalidInputError's message (failing if it loads). */
  const failure = async (file: string, disable: string[] = []): Promise<string> => {
    const error = await loadPatternRules({ extraRulesFile: file, disable }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).exitCode).toBe(2);
    return (error as Error).message;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-pattern-rules-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads the built-in rules as plain JSON', async () => {
    const set = await loadPatternRules();
    expect(set.rules.length).toBeGreaterThanOrEqual(19);
    expect(JSON.parse(JSON.stringify(set))).toEqual(set);
    expect(new Set(set.rules.map((r) => r.id)).size).toBe(set.rules.length);
  });

  it('adds rules from a user file and lets a rule with a built-in id replace it', async () => {
    const replaced = { ...good, id: 'js-eval', title: 'eval, my way', severity: 'critical', languages: ['javascript'], keywords: ['eval'], regex: '\\beval\\(' };
    const set = await loadPatternRules({ extraRulesFile: await write({ rules: [good, replaced] }) });
    expect(set.rules.find((r) => r.id === 'custom-danger')).toEqual(good);
    expect(set.rules.filter((r) => r.id === 'js-eval')).toEqual([replaced]);
    const engine = createPatternsEngine(set);
    expect(engine.scan('x = danger(1)\n', 'a.py').map((m) => [m.rule, m.severity, m.cwe])).toEqual([['custom-danger', 'medium', 'CWE-676']]);
    expect(engine.scan('eval(x)\n', 'a.js').map((m) => [m.rule, m.severity])).toEqual([['js-eval', 'critical']]);
  });

  it('disables rules by id', async () => {
    const set = await loadPatternRules({ disable: ['python-yaml-load', 'js-eval', 'js-eval'] });
    expect(set.rules.some((r) => r.id === 'python-yaml-load' || r.id === 'js-eval')).toBe(false);
    expect(createPatternsEngine(set).scan('d = yaml.load(s)\n', 'a.py')).toEqual([]);
  });

  it('refuses to disable an unknown rule, naming it', async () => {
    const error = await loadPatternRules({ disable: ['no-such-rule'] }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('"no-such-rule"');
    expect((error as InvalidInputError).hint).toContain('python-eval-exec');
  });

  it('names the file for a missing file and for bad JSON', async () => {
    const missing = join(dir, 'nope.json');
    expect(await failure(missing)).toContain(missing);
    const bad = await write('{ "rules": [ }');
    const message = await failure(bad);
    expect(message).toContain(bad);
    expect(message).toMatch(/not valid JSON/);
  });

  it('names the file, the rule and the field for schema errors', async () => {
    const noTitle: Record<string, unknown> = { ...good };
    delete noTitle['title'];
    const file = await write({ rules: [good, noTitle] });
    const message = await failure(file);
    expect(message).toContain(file);
    expect(message).toContain('$.rules[1]');
    expect(message).toContain('missing required field "title"');
    expect(message).toContain('(rule "custom-danger")');

    expect(await failure(await write({ rules: [{ ...good, severity: 'severe' }] }))).toMatch(/\$\.rules\[0\]\.severity: must be one of "critical".*\(rule "custom-danger"\)/);
    expect(await failure(await write({ rules: [{ ...good, languages: ['ruby'] }] }))).toContain('$.rules[0].languages[0]');
    expect(await failure(await write({ rules: [{ ...good, cwe: '78' }] }))).toContain('$.rules[0].cwe');
    expect(await failure(await write({ rules: [{ ...good, colour: 'red' }] }))).toContain('unknown field "colour"');
    expect(await failure(await write({ rules: [{ ...good, flags: 'g' }] }))).toContain('$.rules[0].flags');
    expect(await failure(await write([good]))).toContain('$: must be object');
  });

  it('names the file, the rule and the problem for a bad regex', async () => {
    const file = await write({ rules: [{ ...good, regex: 'danger(' }] });
    const message = await failure(file);
    expect(message).toContain(file);
    expect(message).toContain('rule "custom-danger"');
    expect(message).toMatch(/\.regex: invalid regular expression: .*Unterminated group/);

    expect(await failure(await write({ rules: [{ ...good, 'unless-regex': '[a-' }] }))).toMatch(/rule "custom-danger"\)\.unless-regex: invalid regular expression/);
  });

  it('checks where-clauses: the group must exist and exactly one test is given', async () => {
    expect(await failure(await write({ rules: [{ ...good, where: [{ group: 'arg', matches: 'x' }] }] }))).toContain('no group named "arg"');
    const withGroup = { ...good, regex: 'danger\\((?<arg>[^)]*)\\)' };
    expect(await failure(await write({ rules: [{ ...withGroup, where: [{ group: 'arg' }] }] }))).toContain('exactly one of "matches" and "not-matches"');
    expect(await failure(await write({ rules: [{ ...withGroup, where: [{ group: 'arg', matches: '(' }] }] }))).toMatch(/where\[0\]: invalid regular expression/);
    const set = await loadPatternRules({ extraRulesFile: await write({ rules: [{ ...withGroup, where: [{ group: 'arg', 'not-matches': '^\\d+$' }] }] }) });
    const engine = createPatternsEngine(set);
    expect(engine.scan('danger(42)\ndanger(x)\n', 'a.py').map((m) => m.line)).toEqual([2]);
  });

  it('rejects duplicate ids within one file', async () => {
    expect(await failure(await write({ rules: [good, good] }))).toContain('duplicate rule id "custom-danger"');
  });
});
