import { writeFileDurable } from '../core/durable-write.js';
import { readJsonFile } from '../core/json-file.js';
import type { Finding } from '../core/findings.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';

/**
 * Known findings, by fingerprint, so a scan reports only what is new. Entries keep the rule and
 * file for people reading the file; matching uses the fingerprint alone.
 */
export interface Baseline {
  schema: 'govctl.scan-baseline/v1';
  findings: Array<{ fingerprint: string; rule: string; file: string }>;
}

const schema = {
  type: 'object',
  required: ['schema', 'findings'],
  additionalProperties: false,
  properties: {
    schema: { const: 'govctl.scan-baseline/v1' },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['fingerprint', 'rule', 'file'],
        additionalProperties: false,
        properties: { fingerprint: { type: 'string', minLength: 1 }, rule: { type: 'string' }, file: { type: 'string' } },
      },
    },
  },
};

let validate: Validator<Baseline> | undefined;

export async function readBaseline(path: string): Promise<Set<string>> {
  const parsed = await readJsonFile(path, 'baseline');
  validate ??= compileSchema<Baseline>(schema);
  return new Set(assertValid(validate, parsed, `baseline ${path}`).findings.map((f) => f.fingerprint));
}

export async function writeBaseline(path: string, findings: Finding[]): Promise<void> {
  const entries = findings
    .map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, file: 'file' in f.location ? f.location.file : f.location.url }))
    .sort((a, b) => a.file.localeCompare(b.file) || a.rule.localeCompare(b.rule) || a.fingerprint.localeCompare(b.fingerprint));
  const unique = entries.filter((e, i) => i === 0 || e.fingerprint !== entries[i - 1]!.fingerprint);
  const baseline: Baseline = { schema: 'govctl.scan-baseline/v1', findings: unique };
  await writeFileDurable(path, `${JSON.stringify(baseline, null, 2)}\n`);
}
