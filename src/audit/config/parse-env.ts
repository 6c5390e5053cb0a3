import { InvalidInputError } from '../../core/errors.js';
import type { ConfigEntry } from './load-config.js';

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;

/** True when every line that is not blank or a comment is an assignment (content sniffing). */
export function looksLikeEnvFile(text: string): boolean {
  let assignments = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!ASSIGNMENT.test(line)) return false;
    assignments++;
  }
  return assignments > 0;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/**
 * Parses a `.env` file as python-dotenv and docker compose read it: `KEY=value`, an optional
 * `export`, single quotes (literal), double quotes (escapes, may span lines), backquotes,
 * ` # comments` after unquoted values. A line that is none of these is an error naming its line:
 * an audit must not skip what it cannot read. A key set twice keeps its last value.
 */
export function parseEnvText(text: string, file: string): ConfigEntry[] {
  const lines = text.split(/\r?\n/);
  const entries = new Map<string, ConfigEntry>();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = ASSIGNMENT.exec(trimmed);
    if (!m) throw new InvalidInputError(`${file}:${lineNo}: expected KEY=value in a .env file, found ${JSON.stringify(trimmed.slice(0, 40))}`);
    const key = m[1]!;
    let rest = m[2]!;
    let value: string;
    let interpolate = true;
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value ends at its closing quote, possibly lines later.
      let body = rest.slice(1);
      let end = findClosingQuote(body, quote);
      while (end < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]!}`;
        end = findClosingQuote(body, quote);
      }
      if (end < 0) throw new InvalidInputError(`${file}:${lineNo}: ${key}: the ${quote} quote is never closed`);
      const after = body.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) throw new InvalidInputError(`${file}:${lineNo}: ${key}: unexpected text after the closing quote`);
      rest = body.slice(0, end);
      value = quote === '"' ? rest.replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all) : rest;
      interpolate = quote !== "'";
    } else {
      value = rest.replace(/\s+#.*$/, '').trim();
    }
    entries.delete(key);
    entries.set(key, { keyPath: key, segments: [key], value, line: lineNo, interpolate });
  }
  return [...entries.values()];
}

function findClosingQuote(body: string, quote: string): number {
  for (let j = 0; j < body.length; j++) {
    if (body[j] === '\\' && quote === '"') j++;
    else if (body[j] === quote) return j;
  }
  return -1;
}
