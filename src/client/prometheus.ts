/**
 * A small parser of the Prometheus text exposition format 0.0.4: enough to read the samples a
 * governance server exposes (names, labels, values) and their HELP/TYPE lines. Lines it cannot
 * read are reported, not guessed at.
 */

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carried one. */
  timestamp?: number;
}

export interface MetricFamily {
  type?: string;
  help?: string;
}

export interface ParsedMetrics {
  samples: MetricSample[];
  families: Record<string, MetricFamily>;
  /** Lines that are not valid exposition format, 1-based, with why. */
  invalid: Array<{ line: number; reason: string }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: MetricSample[] = [];
  const families: Record<string, MetricFamily> = Object.create(null) as Record<string, MetricFamily>;
  const invalid: ParsedMetrics['invalid'] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = /^#\s*(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (meta) {
        const family = (families[meta[2]!] ??= {});
        if (meta[1] === 'TYPE') family.type = meta[3] ?? '';
        else family.help = unescapeHelp(meta[3] ?? '');
      }
      continue;
    }
    try {
      samples.push(parseSample(line));
    } catch (err) {
      invalid.push({ line: i + 1, reason: (err as Error).message });
    }
  }
  return { samples, families, invalid };
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

function parseSample(line: string): MetricSample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error('no metric name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith('}')) {
        rest = rest.slice(1);
        break;
      }
      const label = LABEL_NAME.exec(rest)?.[0];
      if (label === undefined) throw new Error('bad label name');
      rest = rest.slice(label.length).trimStart();
      if (!rest.startsWith('="') && !rest.startsWith('= "')) throw new Error(`label ${label} has no quoted value`);
      rest = rest.slice(rest.indexOf('"') + 1);
      let value = '';
      let j = 0;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\') {
          const next = rest[++j];
          value += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next ?? ''}`;
        } else {
          value += rest[j];
        }
      }
      if (j >= rest.length) throw new Error(`label ${label} value is not closed`);
      labels[label] = value;
      rest = rest.slice(j + 1).trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error('expected , or } after a label');
    }
  }
  const parts = rest.trim().split(/\s+/);
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error('expected a value (and an optional timestamp)');
  const value = parseValue(parts[0]!);
  if (value === undefined) throw new Error(`bad value ${JSON.stringify(parts[0]!.slice(0, 40))}`);
  const sample: MetricSample = { name, labels: { ...labels }, value };
  if (parts[1] !== undefined) {
    if (!/^-?\d+$/.test(parts[1])) throw new Error('bad timestamp');
    sample.timestamp = Number(parts[1]);
  }
  return sample;
}

function parseValue(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** The value of the first sample named `name` whose labels include `labels`, or undefined. */
export function metricValue(metrics: ParsedMetrics, name: string, labels: Record<string, string> = {}): number | undefined {
  return metrics.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
