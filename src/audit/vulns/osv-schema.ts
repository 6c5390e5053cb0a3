import { InvalidInputError, messageOf } from '../../core/errors.js';
import { assertValid, compileSchema } from '../../core/schema.js';

/**
 * The part of the OSV schema (https://ossf.github.io/osv-schema/) that matching reads. The
 * validation is deliberately light: the fields matching depends on must have the right shape,
 * everything else OSV defines (and future additions) passes untouched.
 */

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  /** SEMVER, ECOSYSTEM or GIT (GIT is ignored: no commit graph offline). */
  type: string;
  repo?: string;
  events: OsvEvent[];
}

export interface OsvSeverityItem {
  /** CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu, ... */
  type: string;
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverityItem[] | null;
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvReference {
  type: string;
  url: string;
}

export interface OsvAdvisory {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[] | null;
  summary?: string;
  details?: string;
  severity?: OsvSeverityItem[] | null;
  affected?: OsvAffected[] | null;
  references?: OsvReference[] | null;
  database_specific?: Record<string, unknown>;
}

// OSV's own schema allows null for these lists.
const stringList = { type: 'array', items: { type: 'string' } };
const nullableStrings = { type: ['array', 'null'], items: { type: 'string' } };
const severityList = {
  type: ['array', 'null'],
  items: {
    type: 'object',
    required: ['type', 'score'],
    properties: { type: { type: 'string' }, score: { type: 'string' } },
  },
};

/** Versions are strings; "exactly one kind per event" is checked after (a clearer message than oneOf's). */
const eventSchema = {
  type: 'object',
  properties: {
    introduced: { type: 'string' },
    fixed: { type: 'string' },
    last_affected: { type: 'string' },
    limit: { type: 'string' },
  },
};

const osvSchema = {
  type: 'object',
  required: ['id', 'modified'],
  properties: {
    id: { type: 'string', minLength: 1 },
    modified: { type: 'string' },
    published: { type: 'string' },
    withdrawn: { type: 'string' },
    aliases: nullableStrings,
    summary: { type: 'string' },
    details: { type: 'string' },
    severity: severityList,
    affected: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        properties: {
          package: {
            type: 'object',
            required: ['ecosystem', 'name'],
            properties: { ecosystem: { type: 'string' }, name: { type: 'string' }, purl: { type: 'string' } },
          },
          severity: severityList,
          ranges: {
            type: 'array',
            items: {
              type: 'object',
              required: ['type', 'events'],
              properties: {
                type: { type: 'string' },
                repo: { type: 'string' },
                events: { type: 'array', minItems: 1, items: eventSchema },
              },
            },
          },
          versions: stringList,
          ecosystem_specific: { type: 'object' },
          database_specific: { type: 'object' },
        },
      },
    },
    references: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['url'],
        properties: { type: { type: 'string' }, url: { type: 'string' } },
      },
    },
    database_specific: { type: 'object' },
  },
};

const validateOsv = compileSchema<OsvAdvisory>(osvSchema);

const HINT = 'every *.json in an OSV database must be an OSV advisory (https://ossf.github.io/osv-schema/)';

/**
 * Parses and validates one advisory file. `source` names it for the user: a path, or
 * "all.zip:GHSA-xxxx.json" for a zip entry. Anything that is not OSV is an InvalidInputError.
 */
export function parseAdvisory(data: Buffer | string, source: string): OsvAdvisory {
  let text = typeof data === 'string' ? data : data.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`OSV advisory ${source} is not valid JSON: ${messageOf(err)}`, { hint: HINT });
  }
  let advisory: OsvAdvisory;
  try {
    advisory = assertValid(validateOsv, value, `OSV advisory ${source}`);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new InvalidInputError(err.message, { hint: HINT });
    throw err;
  }
  const problem = eventProblem(advisory);
  if (problem) throw new InvalidInputError(`OSV advisory ${source} is invalid: ${problem}`, { hint: HINT });
  return advisory;
}

const KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

/** OSV: each event has exactly one kind, and each range at least one "introduced". */
function eventProblem(advisory: OsvAdvisory): string | undefined {
  for (const [a, affected] of (advisory.affected ?? []).entries()) {
    for (const [r, range] of (affected.ranges ?? []).entries()) {
      const at = `$.affected[${a}].ranges[${r}].events`;
      for (const [e, event] of range.events.entries()) {
        const kinds = KINDS.filter((kind) => event[kind] !== undefined);
        if (kinds.length !== 1) return `${at}[${e}]: an event has exactly one of "introduced", "fixed", "last_affected", "limit" (found ${kinds.length === 0 ? 'none' : kinds.join(', ')})`;
      }
      if (!range.events.some((event) => event.introduced !== undefined)) return `${at}: no "introduced" event`;
    }
  }
  return undefined;
}
