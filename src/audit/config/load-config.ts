import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InvalidInputError, messageOf } from '../../core/errors.js';
import { looksLikeEnvFile, parseEnvText } from './parse-env.js';

export type ConfigFormat = 'json' | 'yaml' | 'env';

export type ConfigScalar = string | number | boolean | null;

/** One leaf of a configuration: a scalar, or a list of scalars (CORS origins). */
export interface ConfigEntry {
  /** As written: "rate_limit.enabled", "cors.origins", "servers[0].url", "RATE_LIMIT_ENABLED". */
  keyPath: string;
  /** The keys as written; list indexes as "[0]". */
  segments: string[];
  value: ConfigScalar | ConfigScalar[];
  /** 1-based line of the key. */
  line?: number;
  /** For a list: the line of each item. */
  itemLines?: Array<number | undefined>;
  /** False for a single-quoted .env value: `${VAR}` in it is literal. */
  interpolate: boolean;
}

export interface LoadedConfig {
  file: string;
  format: ConfigFormat;
  entries: ConfigEntry[];
}

/** By name first (.json, .yaml/.yml, .env, *.env, .env.*), else by content. */
export function detectFormat(file: string, text: string): ConfigFormat {
  const name = basename(file).toLowerCase();
  const ext = extname(name);
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (name === '.env' || ext === '.env' || name.startsWith('.env.')) return 'env';
  const start = text.trimStart();
  if (start.startsWith('{')) return 'json';
  return looksLikeEnvFile(text) ? 'env' : 'yaml';
}

/** Reads and parses a configuration file; every failure names the file (and the line when known). */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : messageOf(err);
    throw new InvalidInputError(`cannot read configuration file ${file}: ${why}`, { cause: err });
  }
  return parseConfigText(text.replace(/^\uFEFF/, ''), file);
}

export function parseConfigText(text: string, file: string, format = detectFormat(file, text)): LoadedConfig {
  if (format === 'env') return { file, format, entries: parseEnvText(text, file) };
  const json = format === 'json' ? parseJson(text, file) : undefined;
  const lineCounter = new LineCounter();
  // JSON is read through the YAML parser too (it is YAML 1.2's flow syntax): that gives lines.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: true });
  const error = doc.errors[0];
  // Valid JSON that YAML refuses (a key over 1,024 characters): the settings, without lines.
  if (error && json !== undefined) return { file, format, entries: plainEntries(json, file) };
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `${file}:${at.line}:${at.col}` : file;
    const first = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InvalidInputError(`${where}: not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${first}`);
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return { file, format, entries: [] };
  if (!isMap(root)) {
    const line = root.range ? lineCounter.linePos(root.range[0]).line : undefined;
    throw new InvalidInputError(`${file}${line ? `:${line}` : ''}: expected a mapping of settings at the top level, found ${isSeq(root) ? 'a list' : 'a single value'}`);
  }
  const entries = new Map<string, ConfigEntry>();
  walk(doc, root, [], lineCounter, entries);
  return { file, format, entries: [...entries.values()] };
}

/** JSON.parse is the judge of JSON; its error position becomes a line and column. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = messageOf(err);
    const position = /at position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    throw new InvalidInputError(`${file}:${line}:${col}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, { cause: err });
  }
}

function plainEntries(value: unknown, file: string): ConfigEntry[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${file}: expected a mapping of settings at the top level, found ${Array.isArray(value) ? 'a list' : 'a single value'}`);
  }
  const out: ConfigEntry[] = [];
  const isScalarValue = (v: unknown): v is ConfigScalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  const visit = (obj: object, prefix: string[]): void => {
    for (const [key, v] of Object.entries(obj)) {
      const segments = [...prefix, key];
      if (isScalarValue(v)) out.push({ keyPath: formatKeyPath(segments), segments, value: v, interpolate: true });
      else if (Array.isArray(v) && v.every(isScalarValue)) out.push({ keyPath: formatKeyPath(segments), segments, value: v, interpolate: true });
      else if (Array.isArray(v)) v.forEach((item, i) => typeof item === 'object' && item !== null && visit(item, [...segments, `[${i}]`]));
      else if (typeof v === 'object') visit(v, segments);
    }
  };
  visit(value, []);
  return out;
}

export function formatKeyPath(segments: string[]): string {
  return segments.reduce((path, s) => (s.startsWith('[') ? `${path}${s}` : path === '' ? s : `${path}.${s}`), '');
}

function scalarValue(node: unknown): ConfigScalar | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  return String(v);
}

function walk(doc: Document, node: unknown, prefix: string[], lines: LineCounter, out: Map<string, ConfigEntry>): void {
  const lineOf = (n: { range?: [number, number, number] | null } | null | undefined): number | undefined =>
    n?.range ? lines.linePos(n.range[0]).line : undefined;
  const resolved = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  const target = resolved(node);
  if (!isMap(target)) return;
  for (const pair of target.items) {
    const keyNode = pair.key as Node | null;
    const key = scalarValue(keyNode);
    if (key === undefined || key === null) continue;
    const value = resolved(pair.value);
    // A YAML merge key: the merged map's settings belong to this level.
    if (key === '<<') {
      for (const m of isSeq(value) ? value.items : [value]) walk(doc, m, prefix, lines, out);
      continue;
    }
    const segments = [...prefix, String(key)];
    const line = lineOf(keyNode);
    const put = (entry: ConfigEntry): void => {
      out.delete(entry.keyPath); // the last of duplicate keys wins, as in JSON.parse
      out.set(entry.keyPath, entry);
    };
    if (isMap(value)) {
      walk(doc, value, segments, lines, out);
    } else if (isSeq(value)) {
      const items = value.items.map(resolved);
      if (items.every((item) => isScalar(item))) {
        put({
          keyPath: formatKeyPath(segments),
          segments,
          value: items.map((item) => scalarValue(item) ?? null),
          ...(line !== undefined ? { line } : {}),
          itemLines: items.map((item) => lineOf(item as Node)),
          interpolate: true,
        });
      } else {
        items.forEach((item, i) => {
          if (isMap(item)) walk(doc, item, [...segments, `[${i}]`], lines, out);
        });
      }
    } else {
      const scalar = value === null || value === undefined ? null : scalarValue(value);
      if (scalar === undefined) continue;
      put({ keyPath: formatKeyPath(segments), segments, value: scalar, ...(line !== undefined ? { line } : {}), interpolate: true });
    }
  }
}
