/** A scenario file as written (scenarios/*.json); scenario.ts validates and resolves it. */
export interface ScenarioFileRequest {
  name: string;
  weight?: number;
  method: string;
  path: string;
  auth?: 'api_key' | 'none';
  headers?: Record<string, string>;
  body?: unknown;
  expect?: { status?: number[]; json?: Record<string, unknown> };
  audited?: boolean;
}

export interface ScenarioFile {
  $schema?: string;
  name: string;
  description?: string;
  variables?: Record<string, unknown[]>;
  requests: ScenarioFileRequest[];
}

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Statuses that count as success when a request gives no `expect.status`: the 2xx a server sends. */
export const DEFAULT_EXPECTED_STATUS: readonly number[] = [200, 201, 202, 203, 204, 205, 206];

export const scenarioFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'requests'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 100 },
    description: { type: 'string' },
    variables: {
      type: 'object',
      // Names are checked in scenario.ts, where the message can say which one is wrong.
      additionalProperties: { type: 'array', minItems: 1 },
    },
    requests: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'method', 'path'],
        properties: {
          // Names tag the per-endpoint results and threshold filters (`latency{endpoint:NAME}`).
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', maxLength: 100 },
          weight: { type: 'number', exclusiveMinimum: 0 },
          method: { type: 'string', enum: [...HTTP_METHODS] },
          path: { type: 'string', minLength: 1 },
          auth: { type: 'string', enum: ['api_key', 'none'] },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          body: {},
          expect: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 100, maximum: 599 } },
              json: { type: 'object' },
            },
          },
          audited: { type: 'boolean' },
        },
      },
    },
  },
} as const;
