import { describe, expect, it } from 'vitest';
import { formatMs, formatUptime, renderValue } from '../../src/cli/render/units.js';

describe('units in human tables', () => {
  it('shows durations in ms with one decimal under 10 s, then in s', () => {
    expect(formatMs(0.04)).toBe('0.0 ms');
    expect(formatMs(8.34)).toBe('8.3 ms');
    expect(formatMs(950)).toBe('950.0 ms');
    expect(formatMs(9_999.9)).toBe('9999.9 ms');
    // Rounding to a tenth must not produce "10000.0 ms".
    expect(formatMs(9_999.96)).toBe('10.0 s');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(null)).toBe('-');
    expect(formatMs(Number.NaN)).toBe('-');
  });

  it('shows uptimes in two units at most', () => {
    expect(formatUptime(0)).toBe('0s');
    expect(formatUptime(42.9)).toBe('42s');
    expect(formatUptime(192)).toBe('3m12s');
    expect(formatUptime(2 * 3_600 + 3 * 60 + 59)).toBe('2h03m');
    expect(formatUptime(3 * 86_400 + 4 * 3_600 + 59)).toBe('3d04h');
    expect(formatUptime(undefined)).toBe('-');
    expect(formatUptime(-1)).toBe('-');
  });

  it('renders values as key=value with dotted nested keys, never raw JSON', () => {
    expect(renderValue({ pending: 0 })).toBe('pending=0');
    expect(renderValue({ enabled: true, limits: { rpm: 60, burst: { size: 5 } } })).toBe('enabled=true limits.rpm=60 limits.burst.size=5');
    expect(renderValue({ models: ['gpt-4', 'claude'], note: 'two words', empty: '' })).toBe('models=gpt-4,claude note="two words" empty=""');
    expect(renderValue({ rules: [{ id: 'a' }, { id: 'b' }] })).toBe('rules.0.id=a rules.1.id=b');
    expect(renderValue({ nothing: null, none: {}, list: [] })).toBe('nothing=null none={} list=[]');
    expect(renderValue({})).toBe('{}');
    expect(renderValue(['a', 1, true])).toBe('a,1,true');
    expect(renderValue('memory')).toBe('memory');
    expect(renderValue(3.5)).toBe('3.5');
    expect(renderValue(false)).toBe('false');
    expect(renderValue(null)).toBe('-');
    for (const v of [{ a: { b: 1 } }, [{ x: 1 }], { s: 'q"uote' }]) expect(renderValue(v)).not.toMatch(/[{}]|":/);
  });
});
