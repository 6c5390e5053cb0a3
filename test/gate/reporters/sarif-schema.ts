import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Validate = ((value: unknown) => boolean) & { errors?: unknown[] | null };
let cached: Validate | undefined;

/** The SARIF 2.1.0 schema's validator (the schema the scan tests use), formats checked too. */
export async function sarifValidator(): Promise<Validate> {
  if (cached) return cached;
  const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  const Ajv4 = (require('ajv-draft-04') as { default: new (options: object) => { compile(schema: object): Validate } }).default;
  const addFormats = (require('ajv-formats') as { default: (ajv: object) => void }).default;
  const ajv = new Ajv4({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  cached = ajv.compile(schema);
  return cached;
}
