import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson, CanonicalJsonError, findDuplicateKey } from '../../src/release/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves no whitespace', () => {
    const value = { b: 1, a: { d: [true, null, { z: 'x', y: false }], c: 'é' } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"é","d":[true,null,{"y":false,"z":"x"}]},"b":1}');
  });

  it('gives the same bytes whatever the key order and formatting of the source', () => {
    const one = JSON.parse('{"version":"1.0.0","artifacts":[{"size":2,"path":"a"}],"git":null}') as unknown;
    const two = JSON.parse('{\n  "git": null,\n  "artifacts": [ { "path": "a", "size": 2 } ],\n  "version": "1.0.0"\n}') as unknown;
    expect(canonicalBytes(one).equals(canonicalBytes(two))).toBe(true);
    expect(canonicalJson(one)).toBe('{"artifacts":[{"path":"a","size":2}],"git":null,"version":"1.0.0"}');
  });

  it('changes when any value changes', () => {
    const base = { a: 1, b: ['x'] };
    expect(canonicalJson(base)).not.toBe(canonicalJson({ a: 2, b: ['x'] }));
    expect(canonicalJson(base)).not.toBe(canonicalJson({ a: 1, b: ['x', 'y'] }));
    expect(canonicalJson(base)).not.toBe(canonicalJson({ a: '1', b: ['x'] }));
  });

  it('sorts by UTF-16 code units, not by locale (RFC 8785)', () => {
    // The order RFC 8785 section 3.2.3 gives for these names.
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    const keys = Object.keys(JSON.parse(canonicalJson(value)) as object);
    // JSON.parse puts "1" (an array index) first whatever the text says: check the text instead.
    expect(keys).toContain('1');
    const text = canonicalJson(value);
    const order = ['\\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => text.indexOf(`"${k}"`));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('serialises strings and numbers as JCS does', () => {
    expect(canonicalJson({ s: 'line\nquote"back\\tab\t\u0001' })).toBe('{"s":"line\\nquote\\"back\\\\tab\\t\\u0001"}');
    expect(canonicalJson([0, -0, 1e21, 123456789, 0.5, -3])).toBe('[0,0,1e+21,123456789,0.5,-3]');
  });

  it('leaves out absent optional members and refuses values without a JSON form', () => {
    expect(canonicalJson({ name: 'scan', reason: undefined })).toBe('{"name":"scan"}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ n: Infinity })).toThrow(/\$\.n: Infinity/);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(/Date/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/cycle/);
  });
});

describe('findDuplicateKey', () => {
  it('finds a member name given twice in one object, escapes decoded, at any depth', () => {
    expect(findDuplicateKey('{"a":1,"b":{"c":[{"d":1}]}}')).toBeUndefined();
    expect(findDuplicateKey('{"a":1,"b":2,"a":3}')).toBe('$.a');
    expect(findDuplicateKey('{"a":1,"\\u0061":3}')).toBe('$.a');
    expect(findDuplicateKey('{"x":[{"k":"a,\\"b"},{"k":1,"k":2}]}')).toBe('$.x[1].k');
    // The same name in sibling objects is fine; strings that look like keys are not keys.
    expect(findDuplicateKey('{"x":[{"k":1},{"k":2}],"y":"\\"x\\":"}')).toBeUndefined();
  });
});
