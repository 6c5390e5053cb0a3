import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateSarif } from '../../../src/gate/reporters/sarif.js';
import type { GateEvaluation } from '../../../src/gate/types.js';
import { removeDir, tempDir } from '../../fixtures/gate/reports.js';
import { fixtureEvaluation } from './evaluation.js';
import { sarifValidator } from './sarif-schema.js';

describe('SARIF reporter', () => {
  let cwd: string;
  let evaluation: GateEvaluation;
  beforeAll(async () => {
    cwd = await tempDir();
    evaluation = await fixtureEvaluation(cwd);
  });
  afterAll(async () => {
    await removeDir(cwd);
  });

  it('carries the findings the security gates counted, and validates against SARIF 2.1.0', async () => {
    const sarif = gateSarif(evaluation, { srcRoot: 'file:///work/project/' });
    const validate = await sarifValidator();
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const results = sarif.runs[0]!.results;
    // The two high findings; the medium one is below the gate's severity and was not counted.
    expect(results.map((r) => r.ruleId).sort()).toEqual(['admin-route-open', 'aws-access-key-id']);
    expect(results.every((r) => r.level === 'error')).toBe(true);
    expect(results.find((r) => r.ruleId === 'aws-access-key-id')!.partialFingerprints['govctl/v2']).toBe('aws-access-key-id-secret-1');
    expect(sarif.runs[0]).toMatchObject({ properties: { gates_file: 'ci', result: 'fail' } });
  });

  it('an evaluation without findings is a valid, empty log', async () => {
    const clean = { ...evaluation, gates: evaluation.gates.filter((g) => !g.metric.startsWith('security.')) };
    const sarif = gateSarif(clean);
    expect(sarif.runs[0]!.results).toEqual([]);
    const validate = await sarifValidator();
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });
});
