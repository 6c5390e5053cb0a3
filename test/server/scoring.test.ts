import { describe, expect, it } from 'vitest';
import { decide, readFlags } from '../../src/server/scoring.js';
import { DEFAULT_POLICIES, type PolicyView } from '../../src/server/store/policies.js';

const defaults = (): PolicyView[] => DEFAULT_POLICIES.map((p, i) => ({ ...p, id: i + 1, violations_count: 0 }));

function withPolicy(key: string, change: Partial<PolicyView>): PolicyView[] {
  return defaults().map((p) => (p.key === key ? { ...p, ...change } : p));
}

describe('scoring', () => {
  it('allows an operation with no risk flags', () => {
    expect(decide(readFlags({}), defaults())).toEqual({ allowed: true, risk_score: 0, reason: 'ok', violated: [] });
  });

  it('blocks personal data (+70) and names the reason', () => {
    const d = decide(readFlags({ contains_personal_data: true }), defaults());
    expect(d).toMatchObject({ allowed: false, risk_score: 70, reason: 'contains_personal_data' });
    expect(d.violated).toEqual(['block_personal_data', 'max_risk_score']);
  });

  it('scores external models (+50) under either flag name; 50 is not below the max of 50', () => {
    for (const flag of ['is_external_model', 'uses_external_model']) {
      expect(decide(readFlags({ [flag]: true }), defaults())).toMatchObject({ allowed: false, risk_score: 50, reason: 'external_model' });
    }
  });

  it('adds contributions and reports the largest', () => {
    const d = decide(readFlags({ contains_personal_data: true, is_external_model: true }), defaults());
    expect(d).toMatchObject({ risk_score: 120, reason: 'contains_personal_data', allowed: false });
  });

  it('ignores flags that are not exactly true', () => {
    expect(decide(readFlags({ contains_personal_data: 'yes', is_external_model: 1 }), defaults()).risk_score).toBe(0);
  });

  it('a disabled policy adds nothing', () => {
    const d = decide(readFlags({ contains_personal_data: true }), withPolicy('block_personal_data', { enabled: false }));
    expect(d).toMatchObject({ allowed: true, risk_score: 0, reason: 'ok' });
  });

  it('a raised maximum allows what the default blocks, and keeps the reason', () => {
    const d = decide(readFlags({ is_external_model: true }), withPolicy('max_risk_score', { value: { max: 51 } }));
    expect(d).toMatchObject({ allowed: true, risk_score: 50, reason: 'external_model', violated: [] });
  });

  it('with max_risk_score disabled nothing is blocked', () => {
    const d = decide(readFlags({ contains_personal_data: true }), withPolicy('max_risk_score', { enabled: false }));
    expect(d.allowed).toBe(true);
  });
});
