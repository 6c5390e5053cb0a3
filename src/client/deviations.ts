import { visible } from '../core/visible-text.js';

/**
 * Where a server's answer differs from the contract (governance-api.md). The client never fills
 * a gap with a made-up value: an absent field stays absent (null), and the difference is
 * recorded here, beside the normalised value, for the cli to mention and audit to report.
 */
export interface Deviation {
  /** The operation, e.g. "GET /api/admin/keys". */
  operation?: string;
  /** JSON path in the answer, e.g. "$[0].role" or "$.status". */
  path: string;
  /** What the contract says, e.g. "string", "boolean", "a health document". */
  expected: string;
  /** What came instead, e.g. "absent", "number 12", "absent; read from is_active". */
  got: string;
}

/** A value normalised from a server's answer, with the ways the answer left the contract. */
export interface Normalised<T> {
  value: T;
  deviations: Deviation[];
}

/** A short, printable description of a value that did not fit: its type and a clipped rendering. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (typeof value === 'object') return 'object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${visible(text.length > 40 ? `${text.slice(0, 37)}...` : text)}`;
}

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a value of one type, or undefined when the value is not of it. */
export type Read<T> = (v: unknown) => T | undefined;

export const asString: Read<string> = (v) => (typeof v === 'string' ? v : undefined);
export const asNumber: Read<number> = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const asBoolean: Read<boolean> = (v) => (typeof v === 'boolean' ? v : undefined);

/** Reads the fields of one object of an answer, recording each deviation under `path`. */
export class FieldReader {
  constructor(
    readonly source: Json,
    readonly path: string,
    readonly out: Deviation[],
  ) {}

  /**
   * The contract field `name`, or the first alias that field servers use instead (recorded), or
   * null (recorded) — never a default. `nullable` fields may be null without a deviation;
   * `optional` ones may also be absent.
   */
  get<T>(name: string, read: Read<T>, expected: string, opts: { aliases?: string[]; nullable?: boolean; optional?: boolean } = {}): T | null {
    const raw = this.source[name];
    const value = read(raw);
    if (value !== undefined) return value;
    if (raw === null && opts.nullable) return null;
    for (const alias of opts.aliases ?? []) {
      const aliased = read(this.source[alias]);
      if (aliased !== undefined) {
        this.out.push({ path: `${this.path}.${name}`, expected, got: `absent; read from "${alias}"` });
        return aliased;
      }
    }
    if (raw === undefined && opts.optional) return null;
    this.out.push({ path: `${this.path}.${name}`, expected, got: describeValue(raw) });
    return null;
  }

  /** Records a deviation that is not about one field's type. */
  note(path: string, expected: string, got: string): void {
    this.out.push({ path: `${this.path}${path}`, expected, got });
  }
}

/** The reader for `raw`, recording a deviation when it is not an object at all. */
export function readerFor(raw: unknown, path: string, out: Deviation[]): FieldReader {
  if (!isObject(raw)) {
    out.push({ path, expected: 'object', got: describeValue(raw) });
    return new FieldReader({}, path, []);
  }
  return new FieldReader(raw, path, out);
}
