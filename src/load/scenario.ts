import { InvalidInputError } from '../core/errors.js';
import { readJsonFile } from '../core/json-file.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import { resolveDataFile } from './data-files.js';
import { createRng, deriveSeed } from './rng.js';
import { DEFAULT_EXPECTED_STATUS, scenarioFileSchema, type ScenarioFile, type ScenarioFileRequest } from './scenario-schema.js';
import { compileTemplate, hasTemplate, isReservedVariableName, type CompiledTemplate, type TemplateProblem } from './templates.js';
import type { ResolvedScenario, ScenarioRequest } from './types.js';

export { listScenarios } from './data-files.js';

export interface ScenarioOptions {
  /** The seed of the body sequence: the same seed gives the same bodies. */
  seed: number;
  /** Bodies pre-serialised per templated request (default 32); a body without templates has one. */
  variants?: number;
}

export interface LoadScenarioOptions extends ScenarioOptions {
  /** Where a relative path is resolved. */
  cwd: string;
}

export const DEFAULT_VARIANTS = 32;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const BAD_HEADER_VALUE = /[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]/;
const REQUEST_TARGET = /^\/[\x21-\x7e]*$/;
/** Set by the request path itself (framing, and the key for api_key requests). */
const RESERVED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te']);

let validateScenarioFile: Validator<ScenarioFile> | undefined;

/**
 * Loads a scenario: a bare name ("governance-mix") from the shipped scenarios/, anything else as
 * a path relative to `cwd`. Bodies are expanded from their templates and serialised now, from
 * the seed, so the run only picks pre-built bytes.
 */
export async function loadScenario(nameOrPath: string, options: LoadScenarioOptions): Promise<ResolvedScenario> {
  const file = resolveDataFile('scenario', nameOrPath, options.cwd);
  return resolveScenario(await readJsonFile(file, 'scenario'), file, options);
}

/** True for the decisions the server must log: POST /v1/check (query ignored). */
function isDecision(method: string, path: string): boolean {
  return method === 'POST' && path.split('?')[0] === '/v1/check';
}

function checkRequest(request: ScenarioFileRequest, path: string, problems: string[]): void {
  if (!REQUEST_TARGET.test(request.path)) {
    problems.push(`${path}.path: must start with "/" and hold only visible ASCII (percent-encode spaces and the rest), got ${JSON.stringify(request.path)}`);
  } else if (hasTemplate(request.path)) {
    problems.push(`${path}.path: templates are expanded only in "body"; write a fixed path`);
  }
  if (request.body !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
    problems.push(`${path}.body: a ${request.method} request cannot have a body; remove "body" or use POST`);
  }
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const where = `${path}.headers[${JSON.stringify(name)}]`;
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) problems.push(`${where}: not a valid HTTP header name`);
    else if (RESERVED_HEADERS.has(lower)) problems.push(`${where}: set by govctl's request path, a scenario cannot give it`);
    else if (lower === 'authorization' && (request.auth ?? 'api_key') === 'api_key') {
      problems.push(`${where}: an "api_key" request sends the run's key; set "auth": "none" to send your own Authorization header`);
    }
    // The value is never shown: it may be a credential.
    if (BAD_HEADER_VALUE.test(value)) problems.push(`${where}: the value has CR, LF or control characters (expected one line)`);
    else if (hasTemplate(value)) problems.push(`${where}: templates are expanded only in "body"`);
  }
}

/**
 * Validates a parsed scenario file and resolves it: defaults filled in, templates compiled and
 * `variants` bodies per templated request serialised deterministically from the seed. Every
 * problem is reported at once with its JSON path; `source` is the file named in the message.
 */
export function resolveScenario(value: unknown, source: string, options: ScenarioOptions): ResolvedScenario {
  const variants = options.variants ?? DEFAULT_VARIANTS;
  if (!Number.isSafeInteger(variants) || variants < 1) throw new InvalidInputError(`invalid number of body variants ${variants}: expected a whole number of at least 1`);
  validateScenarioFile ??= compileSchema<ScenarioFile>(scenarioFileSchema);
  const file = assertValid(validateScenarioFile, value, source);
  const problems: string[] = [];
  const variables = file.variables ?? {};
  for (const name of Object.keys(variables)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(`$.variables[${JSON.stringify(name)}]: a variable name is letters, digits and "_", not starting with a digit`);
    } else if (isReservedVariableName(name)) problems.push(`$.variables.${name}: "${name}" is a built-in generator; choose another variable name`);
  }
  const seen = new Map<string, number>();
  const templates: Array<CompiledTemplate | undefined> = file.requests.map((request, i) => {
    const path = `$.requests[${i}]`;
    const first = seen.get(request.name);
    if (first !== undefined) problems.push(`${path}.name: "${request.name}" is already the name of $.requests[${first}]; names must be unique`);
    else seen.set(request.name, i);
    checkRequest(request, path, problems);
    if (request.body === undefined) return undefined;
    const templateProblems: TemplateProblem[] = [];
    const template = compileTemplate(request.body, variables, `${path}.body`, templateProblems);
    problems.push(...templateProblems.map((p) => `${p.path}: ${p.message}`));
    return template;
  });
  if (problems.length > 0) throw new InvalidInputError(`${source} is invalid: ${problems.join('; ')}`);

  const requests = file.requests.map((request, i): ScenarioRequest => {
    const template = templates[i];
    const bodies: string[] = [];
    if (template !== undefined) {
      // One generator per request: adding a request to a file does not change the others' bodies.
      const rng = createRng(deriveSeed(options.seed, i));
      const count = template.constant ? 1 : variants;
      for (let v = 0; v < count; v++) bodies.push(JSON.stringify(template.expand(rng)));
    }
    const expect: ScenarioRequest['expect'] = { status: [...(request.expect?.status ?? DEFAULT_EXPECTED_STATUS)] };
    if (request.expect?.json !== undefined) expect.json = request.expect.json;
    return {
      name: request.name,
      weight: request.weight ?? 1,
      method: request.method,
      path: request.path,
      auth: request.auth ?? 'api_key',
      bodies,
      headers: { ...request.headers },
      expect,
      audited: request.audited ?? isDecision(request.method, request.path),
    };
  });
  return { name: file.name, source, requests };
}
