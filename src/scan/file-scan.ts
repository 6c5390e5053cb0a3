import { readFile } from 'node:fs/promises';
import type { Engine, RawMatch } from './types.js';
import type { SkipReason, WalkedFile } from './walker.js';

export type ScanKind = 'secrets' | 'patterns';

/** What a worker needs to rebuild an engine: plain, serializable data. */
export interface EngineSpec {
  kind: ScanKind;
  /** The rule set as loaded (plain JSON). */
  rules: unknown;
}

export async function buildEngine(spec: EngineSpec): Promise<Engine> {
  if (spec.kind === 'secrets') {
    const { createSecretsEngine } = await import('./secrets/engine.js');
    return createSecretsEngine(spec.rules as Parameters<typeof createSecretsEngine>[0]);
  }
  const { createPatternsEngine } = await import('./patterns/engine.js');
  return createPatternsEngine(spec.rules as Parameters<typeof createPatternsEngine>[0]);
}

export interface FileScanResult {
  path: string;
  /** Where `commit` is set, the matches come from that commit's added lines. */
  commit?: string;
  matches: RawMatch[];
  suppressed: number;
  bytes: number;
  skipped?: SkipReason;
}

const BINARY_SNIFF_BYTES = 8000;
const SUPPRESS = /govctl:allow/;
const NOSEC = /(#|\/\/|\/\*)\s*nosec\b/;

/** NUL in the first 8000 bytes means binary, as git decides. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, BINARY_SNIFF_BYTES);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/** The text of line `line` (1-based) without reading more of `text` than needed. */
function lineAt(text: string, starts: number[], line: number): string {
  const start = starts[line - 1] ?? text.length;
  const next = starts[line];
  return text.slice(start, next === undefined ? text.length : next - 1);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/**
 * Runs the engine over one text and drops matches whose line carries an inline suppression:
 * `govctl:allow` for anything, `# nosec` / `// nosec` for dangerous code.
 */
export function scanText(engine: Engine, text: string, path: string): { matches: RawMatch[]; suppressed: number } {
  const raw = engine.scan(text, path);
  if (raw.length === 0) return { matches: raw, suppressed: 0 };
  const starts = lineStarts(text);
  const matches: RawMatch[] = [];
  let suppressed = 0;
  for (const m of raw) {
    const line = lineAt(text, starts, m.line);
    if (SUPPRESS.test(line) || (m.category === 'dangerous-code' && NOSEC.test(line))) suppressed += 1;
    else matches.push(m);
  }
  return { matches, suppressed };
}

/** A file's bytes, or why it could not be read. */
export type LoadedFile = { path: string; bytes: Buffer } | { path: string; error: true };

export async function loadFile(file: Pick<WalkedFile, 'path' | 'absPath'>): Promise<LoadedFile> {
  try {
    return { path: file.path, bytes: await readFile(file.absPath) };
  } catch {
    return { path: file.path, error: true };
  }
}

/**
 * A file's text: UTF-16 (LE or BE) when it starts with that byte-order mark (its NUL bytes are
 * not a sign of binary then), UTF-8 otherwise (a UTF-8 BOM dropped, so columns count from the
 * first real character); undefined when it looks binary.
 */
export function decodeText(bytes: Buffer): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)).toString('utf16le');
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    // A copy: swap16 works in place and the buffer may be shared.
    return Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1))).swap16().toString('utf16le');
  }
  if (looksBinary(bytes)) return undefined;
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}

export function scanLoaded(engine: Engine, loaded: LoadedFile): FileScanResult {
  if ('error' in loaded) return { path: loaded.path, matches: [], suppressed: 0, bytes: 0, skipped: 'unreadable' };
  const { path, bytes } = loaded;
  const text = decodeText(bytes);
  if (text === undefined) return { path, matches: [], suppressed: 0, bytes: bytes.length, skipped: 'binary' };
  const { matches, suppressed } = scanText(engine, text, path);
  return { path, matches, suppressed, bytes: bytes.length };
}

/** How many files are read ahead of the one being scanned, so the CPU never waits on the disk. */
const READ_AHEAD = 8;

/** Scans files in order, reading the next ones while the current one is scanned. */
export async function scanFilesInOrder(
  engine: Engine,
  files: ReadonlyArray<Pick<WalkedFile, 'path' | 'absPath'>>,
  onResult: (result: FileScanResult) => void,
  signal?: AbortSignal,
): Promise<void> {
  const pending: Array<Promise<LoadedFile>> = [];
  let next = 0;
  const fill = () => {
    while (next < files.length && pending.length < READ_AHEAD) pending.push(loadFile(files[next++]!));
  };
  fill();
  while (pending.length > 0 && !signal?.aborted) {
    const loaded = await pending.shift()!;
    fill();
    onResult(scanLoaded(engine, loaded));
  }
}
