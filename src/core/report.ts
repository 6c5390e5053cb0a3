import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { writeFileDurable } from './durable-write.js';
import { InvalidInputError, NotFoundError, messageOf } from './errors.js';
import { fileSystemError } from './fs-errors.js';
import { assertValid, compileSchema, type Validator } from './schema.js';
import { govctlVersion } from './version.js';

export type RunStatus = 'passed' | 'failed' | 'error' | 'interrupted';

export interface ReportTarget {
  url: string;
  kind: 'embedded' | 'remote';
  version?: string;
}

export interface ReportEnvelope<T> {
  schema: string;
  tool: { name: 'govctl'; version: string };
  run: { id: string; started_at: string; finished_at: string; status: RunStatus };
  target?: ReportTarget;
  environment: { os: string; cpus: number; node: string };
  data: T;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomUUID().slice(0, 8)}`;
}

export function buildReport<T>(
  kind: string,
  run: ReportEnvelope<T>['run'],
  data: T,
  target?: ReportTarget,
): ReportEnvelope<T> {
  return {
    schema: `govctl.${kind}/v1`,
    tool: { name: 'govctl', version: govctlVersion() },
    run,
    ...(target ? { target } : {}),
    environment: { os: `${platform()} ${release()}`, cpus: cpus().length, node: process.version },
    data,
  };
}

/** Writes `<dir>/<run-id>/<kind>.json` atomically and returns its path. */
export async function writeReport<T>(dir: string, kind: string, report: ReportEnvelope<T>): Promise<string> {
  const path = join(dir, report.run.id, `${kind}.json`);
  await writeFileDurable(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/**
 * The report kinds govctl writes and the schema versions of each that this build reads. A
 * reader (a gate, a comparison) fails on any other kind or version rather than guess at it.
 */
export const REPORT_KINDS: Readonly<Record<string, readonly number[]>> = {
  scan: [1],
  load: [1],
  chaos: [1],
  audit: [1],
  gate: [1],
  release: [1],
};

const SCHEMA_ID = /^govctl\.([a-z][a-z0-9-]*)\/v([1-9][0-9]*)$/;

/** "govctl.scan/v1" -> {kind: "scan", version: 1}; undefined when it is not a govctl schema id. */
export function parseSchemaId(schema: string): { kind: string; version: number } | undefined {
  const match = SCHEMA_ID.exec(schema);
  return match ? { kind: match[1]!, version: Number(match[2]) } : undefined;
}

const TIMESTAMP = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';

/** The envelope every report shares (DESIGN.md "Reports"); `data` is the kind's own business. */
const envelopeSchema = {
  type: 'object',
  required: ['schema', 'tool', 'run', 'environment', 'data'],
  additionalProperties: false,
  properties: {
    schema: { type: 'string', pattern: SCHEMA_ID.source },
    tool: {
      type: 'object',
      required: ['name', 'version'],
      additionalProperties: false,
      properties: { name: { const: 'govctl' }, version: { type: 'string', minLength: 1 } },
    },
    run: {
      type: 'object',
      required: ['id', 'started_at', 'finished_at', 'status'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1 },
        started_at: { type: 'string', pattern: TIMESTAMP },
        finished_at: { type: 'string', pattern: TIMESTAMP },
        status: { enum: ['passed', 'failed', 'error', 'interrupted'] },
      },
    },
    target: {
      type: 'object',
      required: ['url', 'kind'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', minLength: 1 },
        kind: { enum: ['embedded', 'remote'] },
        version: { type: 'string' },
      },
    },
    environment: {
      type: 'object',
      required: ['os', 'cpus', 'node'],
      additionalProperties: false,
      properties: { os: { type: 'string' }, cpus: { type: 'integer', minimum: 0 }, node: { type: 'string' } },
    },
    data: { type: 'object' },
  },
};

let validateEnvelope: Validator<ReportEnvelope<Record<string, unknown>>> | undefined;

export interface ReadReportOptions {
  /** The kind the caller expects ("scan"); any known kind when absent. */
  kind?: string;
  /** The schema versions the caller reads; by default those of REPORT_KINDS for the kind. */
  schemaVersions?: readonly number[];
}

export interface ReadReport<T> {
  kind: string;
  version: number;
  report: ReportEnvelope<T>;
}

/**
 * Reads a report written by writeReport and checks its envelope: a known `govctl.<kind>/v<N>`
 * schema id (the expected kind and version when asked), and the shape of tool, run, target,
 * environment and data. A missing file is NotFoundError (exit 5); anything else wrong is an
 * InvalidInputError naming the file, the JSON path and what was expected (exit 2). The kind's
 * `data` is returned unchecked: validating it is the reader's business.
 */
export async function readReport<T = Record<string, unknown>>(path: string, options: ReadReportOptions = {}): Promise<ReadReport<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`report ${path} does not exist`, { cause: err });
    throw fileSystemError(err, 'read report', path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(`report ${path} is not valid JSON: ${messageOf(err)}`, { cause: err });
  }
  const schema = (value as { schema?: unknown } | null)?.schema;
  const expected = expectedIds(options);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`report ${path} is invalid: $: expected a report object with "schema": ${expected}`);
  }
  if (typeof schema !== 'string') {
    throw new InvalidInputError(`report ${path} is invalid: $.schema: expected ${expected}, found ${schema === undefined ? 'no schema' : JSON.stringify(schema)}`);
  }
  const id = parseSchemaId(schema);
  const versions = id ? (options.schemaVersions ?? REPORT_KINDS[id.kind]) : undefined;
  const knownKind = id !== undefined && (options.kind === undefined ? Object.hasOwn(REPORT_KINDS, id.kind) : id.kind === options.kind);
  if (!id || !knownKind || !versions?.includes(id.version)) {
    throw new InvalidInputError(`report ${path} is invalid: $.schema: expected ${expected}, found ${JSON.stringify(schema)}`, {
      hint: id && knownKind ? `this govctl (${govctlVersion()}) reads ${id.kind} reports of schema version ${versions?.join(', ') ?? 'none'}` : undefined,
    });
  }
  validateEnvelope ??= compileSchema(envelopeSchema);
  const report = assertValid(validateEnvelope, value, `report ${path}`) as unknown as ReportEnvelope<T>;
  return { kind: id.kind, version: id.version, report };
}

/** What a reader with these options accepts, in words: "govctl.scan/v1", or the known kinds. */
function expectedIds(options: ReadReportOptions): string {
  if (options.kind !== undefined) {
    const versions = options.schemaVersions ?? REPORT_KINDS[options.kind] ?? [1];
    return versions.map((v) => `"govctl.${options.kind}/v${v}"`).join(' or ');
  }
  return `"govctl.<kind>/v<N>" with a known kind (${Object.keys(REPORT_KINDS).join(', ')})`;
}
