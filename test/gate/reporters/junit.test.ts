import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateJunit } from '../../../src/gate/reporters/junit.js';
import type { GateEvaluation } from '../../../src/gate/types.js';
import { removeDir, tempDir } from '../../fixtures/gate/reports.js';
import { fixtureEvaluation } from './evaluation.js';

interface Case {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '@_type': string };
  'system-out': string;
  properties: { property: Array<{ '@_name': string; '@_value': string }> };
}

function parse(xml: string): { suites: Record<string, string>; suite: Record<string, unknown>; cases: Case[] } {
  const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testcase' || name === 'property' });
  const doc = parser.parse(xml) as { testsuites: Record<string, unknown> & { testsuite: Record<string, unknown> & { testcase: Case[] } } };
  return { suites: doc.testsuites as Record<string, string>, suite: doc.testsuites.testsuite, cases: doc.testsuites.testsuite.testcase };
}

describe('JUnit reporter', () => {
  let cwd: string;
  let evaluation: GateEvaluation;
  beforeAll(async () => {
    cwd = await tempDir();
    evaluation = await fixtureEvaluation(cwd);
  });
  afterAll(async () => {
    await removeDir(cwd);
  });

  it('writes one testcase per gate; failures carry the reason, a warning passes with it in system-out', () => {
    const { suites, suite, cases } = parse(gateJunit(evaluation, { cwd }));
    expect(suites).toMatchObject({ '@_tests': '4', '@_failures': '2', '@_errors': '0' });
    expect(suite['@_name']).toBe('govctl gate: ci');
    expect(cases.map((c) => c['@_name'])).toEqual(['G1 latency', 'G2 burst latency', 'G3 chaos recovery', 'G4 security']);
    expect(cases.every((c) => c['@_classname'] === 'govctl.gate.ci')).toBe(true);

    const [g1, g2, g3, g4] = cases;
    expect(g1!.failure).toBeUndefined();
    expect(g1!['system-out']).toMatch(/^PASS p99 latency \(profile normal\): 500 ms \(pass: <800\); .* \[reports\/run-\d+\/load\.json, 2026-01-10T10:00:00\.000Z\]$/);
    expect(g2!.failure).toBeUndefined();
    expect(g2!['system-out']).toContain('WARN p99 latency (profile burst): 900 ms');
    expect(g3!.failure).toEqual({ '@_message': 'not measured: govctl chaos (no chaos journal under reports)', '@_type': 'not measured' });
    expect(g4!.failure!['@_type']).toBe('gate failed');
    expect(g4!.failure!['@_message']).toMatch(/^findings at or above high: 2, needs == 0\b/);
    expect(g3!.properties.property).toContainEqual({ '@_name': 'key', '@_value': 'true' });
  });

  it('under --strict a warned gate is a failure too', () => {
    const { suites, cases } = parse(gateJunit(evaluation, { cwd, strict: true }));
    expect(suites['@_failures']).toBe('3');
    expect(cases[1]!.failure).toMatchObject({ '@_type': 'warning (strict)' });
    expect(cases[1]!.failure!['@_message']).toBe('p99 latency (profile burst): 900 ms, needs < 800 ms; meets warning <1000');
  });
});
