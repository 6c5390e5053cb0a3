import { describe, expect, it } from 'vitest';
import { canonicalId, groupByAlias, allIds } from '../../../src/audit/vulns/aliases.js';
import type { OsvAdvisory } from '../../../src/audit/vulns/osv-schema.js';
import { assessSeverity, cvssBaseScore, severityOfScore, UNKNOWN_SEVERITY, worstSeverity } from '../../../src/audit/vulns/severity.js';

const V3_CRITICAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'; // 9.8
const V3_MEDIUM = 'CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N'; // 5.4
const V3_LOW = 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N'; // 3.3
const V4_CRITICAL = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'; // 9.3
const V4_MEDIUM = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N'; // 6.9

const advisory = (fields: Partial<OsvAdvisory>): OsvAdvisory => ({ id: 'GHSA-test-test-test', modified: '2025-01-01T00:00:00Z', ...fields });

describe('CVSS scores and severities', () => {
  it('computes v3.0, v3.1 and v4.0 base scores', () => {
    expect(cvssBaseScore(V3_CRITICAL)).toEqual({ version: '3.1', score: 9.8 });
    expect(cvssBaseScore(V3_MEDIUM)).toEqual({ version: '3.0', score: 5.4 });
    expect(cvssBaseScore(V3_LOW)).toEqual({ version: '3.1', score: 3.3 });
    expect(cvssBaseScore(V4_CRITICAL)).toEqual({ version: '4.0', score: 9.3 });
    expect(cvssBaseScore(V4_MEDIUM)).toEqual({ version: '4.0', score: 6.9 });
  });

  it('uses the base score, not the temporal one', () => {
    expect(cvssBaseScore(`${V3_CRITICAL}/E:U/RL:O`)?.score).toBe(9.8);
  });

  it('rejects incomplete or invalid vectors instead of scoring them 0', () => {
    expect(cvssBaseScore('CVSS:4.0/AV:N')).toBeUndefined();
    expect(cvssBaseScore('CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeUndefined();
    expect(cvssBaseScore('CVSS:9.9/AV:N')).toBeUndefined();
    expect(cvssBaseScore('garbage')).toBeUndefined();
  });

  it('maps scores to the CVSS qualitative ratings', () => {
    expect([10, 9, 8.9, 7, 6.9, 4, 3.9, 0.1, 0].map(severityOfScore)).toEqual(['critical', 'critical', 'high', 'high', 'medium', 'medium', 'low', 'low', 'info']);
  });

  it('prefers the affected entry\u2019s vectors, then the advisory\u2019s (highest score), then the database word', () => {
    const a = advisory({
      severity: [
        { type: 'CVSS_V3', score: V3_MEDIUM },
        { type: 'CVSS_V4', score: V4_CRITICAL },
      ],
      database_specific: { severity: 'LOW' },
    });
    expect(assessSeverity(a, [])).toMatchObject({ severity: 'critical', known: true, source: `${V4_CRITICAL} = 9.3` });
    expect(assessSeverity(a, [{ severity: [{ type: 'CVSS_V3', score: V3_LOW }] }]).severity).toBe('low');
    expect(assessSeverity(advisory({ database_specific: { severity: 'MODERATE' } }), []).severity).toBe('medium');
    expect(assessSeverity(advisory({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N' }], database_specific: { severity: 'HIGH' } }), []).source).toBe('database severity HIGH');
  });

  it('reports an advisory without any severity as unknown, at the documented level', () => {
    expect(UNKNOWN_SEVERITY).toBe('high');
    expect(assessSeverity(advisory({}), [])).toEqual({ severity: 'high', known: false, source: 'no CVSS vector or database severity' });
  });

  it('takes the worst known severity of a group; unknown only when all are', () => {
    const unknown = assessSeverity(advisory({}), []);
    const low = assessSeverity(advisory({ database_specific: { severity: 'LOW' } }), []);
    const critical = assessSeverity(advisory({ severity: [{ type: 'CVSS_V3', score: V3_CRITICAL }] }), []);
    expect(worstSeverity([unknown, low]).severity).toBe('low');
    expect(worstSeverity([low, critical, unknown]).severity).toBe('critical');
    expect(worstSeverity([unknown]).known).toBe(false);
  });
});

describe('alias grouping', () => {
  it('groups through shared aliases, transitively', () => {
    const records = [
      { id: 'GHSA-aaaa-aaaa-aaaa', aliases: ['CVE-2024-1'] },
      { id: 'PYSEC-2024-1', aliases: ['CVE-2024-1'] },
      { id: 'CVE-2024-1' },
      { id: 'GHSA-bbbb-bbbb-bbbb', aliases: ['CVE-2024-2'] },
      { id: 'OSV-2024-3', aliases: null },
    ];
    const groups = groupByAlias(records).map((g) => g.map((r) => r.id));
    expect(groups).toEqual([['GHSA-aaaa-aaaa-aaaa', 'PYSEC-2024-1', 'CVE-2024-1'], ['GHSA-bbbb-bbbb-bbbb'], ['OSV-2024-3']]);
  });

  it('names a group by its GHSA, else PYSEC, else another OSV id, CVE last', () => {
    expect(canonicalId([{ id: 'CVE-2024-1' }, { id: 'PYSEC-2024-1' }, { id: 'GHSA-zzzz-zzzz-zzzz' }])).toBe('GHSA-zzzz-zzzz-zzzz');
    expect(canonicalId([{ id: 'CVE-2024-1' }, { id: 'PYSEC-2024-1' }])).toBe('PYSEC-2024-1');
    expect(canonicalId([{ id: 'CVE-2024-1' }, { id: 'MAL-2024-9' }])).toBe('MAL-2024-9');
    expect(allIds([{ id: 'CVE-2024-1', aliases: ['GHSA-x'] }, { id: 'PYSEC-2024-1' }])).toEqual(['PYSEC-2024-1', 'GHSA-x', 'CVE-2024-1']);
  });
});
