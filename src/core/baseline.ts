import { writeFileDurable } from './durable-write.js';
import { InvalidInputError } from './errors.js';
import { describeLocation, type Finding } from './findings.js';
import { withFileSystemErrors } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import { assertValid, compileSchema, type Validator } from './schema.js';

/**
 * Known findings, by fingerprint, so a run reports only what is new (scan and audit alike).
 * Entries keep the rule and where it was for people reading the file; matching uses the
 * fingerprint alone. v2: fingerprints are keyed (see core/fingerprint-key.ts); a v1 file holds
 * unkeyed ones, which match nothing any more, so it is refused with what to do.
 */
export const BASELINE_SCHEMA = 'govctl.baseline/v2';

export interface BaselineFile {
  schema: typeof BASELINE_SCHEMA;
  findings: Array<{ fingerprint: string; rule: string; where: string }>;
}

const schema = {
  type: 'object',
  required: ['schema', 'findings'],
  additionalProperties: false,
  properties: {
    schema: { const: BASELINE_SCHEMA },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['fingerprint', 'rule', 'where'],
        additionalProperties: false,
        properties: { fingerprint: { type: 'string', pattern: '^[0-9a-f]{32}$' }, rule: { type: 'string' }, where: { type: 'string' } },
      },
    },
  },
};

let validate: Validator<BaselineFile> | undefined;

/** The fingerprints recorded in a baseline file. */
export async function readBaseline(path: string): Promise<Set<string>> {
  const parsed = await readJsonFile(path, 'baseline');
  const declared = (parsed as { schema?: unknown } | null)?.schema;
  if (declared === 'govctl.scan-baseline/v1') {
    throw new InvalidInputError(`baseline ${path} was written by an older govctl (unkeyed fingerprints)`, {
      hint: 'write it again with --write-baseline',
    });
  }
  validate ??= compileSchema<BaselineFile>(schema);
  return new Set(assertValid(validate, parsed, `baseline ${path}`).findings.map((f) => f.fingerprint));
}

/** Records `findings` as the baseline at `path` (durably, sorted, one entry per fingerprint). */
export async function writeBaseline(path: string, findings: readonly Finding[]): Promise<void> {
  const entries = findings
    .map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, where: describeLocation(f.location) }))
    .sort((a, b) => a.where.localeCompare(b.where) || a.rule.localeCompare(b.rule) || a.fingerprint.localeCompare(b.fingerprint));
  const seen = new Set<string>();
  const unique = entries.filter((e) => !seen.has(e.fingerprint) && seen.add(e.fingerprint));
  const file: BaselineFile = { schema: BASELINE_SCHEMA, findings: unique };
  await withFileSystemErrors('write the baseline', path, () => writeFileDurable(path, `${JSON.stringify(file, null, 2)}\n`));
}

/** Splits findings into those not in the baseline (kept) and the number it suppresses. */
export function filterByBaseline<T extends Pick<Finding, 'fingerprint'>>(findings: readonly T[], baseline: ReadonlySet<string> | undefined): { kept: T[]; suppressed: number } {
  if (!baseline || baseline.size === 0) return { kept: [...findings], suppressed: 0 };
  const kept = findings.filter((f) => !baseline.has(f.fingerprint));
  return { kept, suppressed: findings.length - kept.length };
}
