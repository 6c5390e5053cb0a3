import { describe, expect, it } from 'vitest';
import { criteriaText, evaluateSets, parseCriterion } from '../../src/gate/criteria.js';
import { pathMatcher } from '../../src/gate/glob.js';
import type { CriteriaSets, Criterion } from '../../src/gate/types.js';

function sets(lists: string[][], unit: 'ms' | '%' = 'ms'): CriteriaSets {
  const parsed = lists.map((l) => l.map((t) => parseCriterion(t, unit) as Criterion));
  return { sets: parsed, text: criteriaText(parsed) };
}

describe('criteria', () => {
  it('parses absolute and relative criteria', () => {
    expect(parseCriterion('<800', 'ms')).toEqual({ text: '<800', op: '<', number: 800, relative: null });
    expect(parseCriterion('<= 0.2', 'ms')).toMatchObject({ op: '<=', number: 0.2, relative: null });
    expect(parseCriterion('!=0', 'count' as never)).toMatchObject({ op: '!=', number: 0 });
    expect(parseCriterion('<=+10%', 'ms')).toMatchObject({ op: '<=', number: 10, relative: 'percent-delta' });
    expect(parseCriterion('<=+50', 'ms')).toMatchObject({ number: 50, relative: 'absolute-delta' });
    expect(parseCriterion('>=-5%', 'ms')).toMatchObject({ op: '>=', number: -5, relative: 'percent-delta' });
    // A percentage metric may write its absolute threshold with a "%".
    expect(parseCriterion('>=75%', '%')).toMatchObject({ number: 75, relative: null });
  });

  it('rejects what is not a criterion, saying why', () => {
    expect(parseCriterion('<<5', 'ms')).toMatch(/"<<5" is not a criterion: expected an operator/);
    expect(parseCriterion('800', 'ms')).toMatch(/not a criterion/);
    expect(parseCriterion('<abc', 'ms')).toMatch(/not a criterion/);
    expect(parseCriterion('<10%', 'ms')).toMatch(/a percentage without a sign .* "<=\+10%"|this metric is in ms/);
  });

  it('ANDs within a list and ORs across lists', () => {
    const c = sets([['<800', '>=100'], ['<=+10%']]);
    expect(c.text).toBe('(<800 and >=100) or <=+10%');
    expect(evaluateSets(c, 500, null).ok).toBe(true);
    expect(evaluateSets(c, 50, null).ok).toBe(false);
    expect(evaluateSets(c, 850, null).ok).toBe(false);
    expect(evaluateSets(c, 850, 800).ok).toBe(true);
  });

  it('computes relative targets from the baseline, exactly', () => {
    const c = sets([['<=+10%']]);
    const at = evaluateSets(c, 770, 700);
    expect(at.ok).toBe(true);
    expect(at.checks[0]![0]!.target).toBeCloseTo(770, 9);
    expect(evaluateSets(c, 770.5, 700).ok).toBe(false);
    expect(evaluateSets(sets([['<=+50']]), 750, 700).ok).toBe(true);
    expect(evaluateSets(sets([['>=-5%']]), 94, 100).ok).toBe(false);
    expect(evaluateSets(sets([['>=-5%']]), 95, 100).ok).toBe(true);
  });

  it('a relative criterion without a baseline does not hold', () => {
    const out = evaluateSets(sets([['<=+10%']]), 1, null);
    expect(out.ok).toBe(false);
    expect(out.checks[0]![0]).toEqual({ text: '<=+10%', target: null, ok: false });
  });
});

describe('coverage path filters', () => {
  it('treats a plain path as a directory prefix', () => {
    const m = pathMatcher('src/core/');
    expect(m('src/core/a.ts')).toBe(true);
    expect(m('src/core/deep/b.ts')).toBe(true);
    expect(m('src/corex/a.ts')).toBe(false);
    expect(pathMatcher('./src/core')('src/core/a.ts')).toBe(true);
  });

  it('matches globs', () => {
    expect(pathMatcher('src/**/*.ts')('src/a/b/c.ts')).toBe(true);
    expect(pathMatcher('src/**/*.ts')('src/c.ts')).toBe(true);
    expect(pathMatcher('src/*.ts')('src/a/c.ts')).toBe(false);
    expect(pathMatcher('src/?.ts')('src/a.ts')).toBe(true);
  });
});
