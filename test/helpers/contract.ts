import { connect } from 'node:net';
import { expect } from 'vitest';
import { call, type Answer } from './http.js';

/** Assertions and small clients shared by the contract and bad-input suites. */

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A response body must never show how the server is built: no stack frame, no path, no source file. */
export function expectNoLeak(text: string): void {
  expect(text).not.toMatch(/\n\s*at \S/); // a stack frame line
  expect(text).not.toMatch(/\bat [^\n]*:\d+:\d+/); // "at fn (file:line:col)"
  expect(text).not.toContain('/work/');
  expect(text).not.toContain('node_modules');
  expect(text).not.toContain('.ts:');
  expect(text).not.toContain('.js:');
  expect(text).not.toContain('file://');
  expect(text).not.toMatch(/\/tmp\/|govctl-test-/);
  expect(text).not.toMatch(/SQLITE_|sqlite3?\.|RangeError|TypeError|SyntaxError: /);
}

/** An error answer: the status, the FastAPI-style body, and nothing internal. */
export function expectError(answer: Answer, status: number, detail?: string): void {
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status, body: { detail: expect.anything() } });
  if (detail !== undefined) expect(answer.body.detail).toBe(detail);
  expectNoLeak(answer.text);
}

/** A 422 whose `detail` is a list of {loc, msg, type} and names `field` (the last part of a loc). */
export function expectFieldError(answer: Answer, ...loc: Array<string | number>): void {
  expect(answer.status).toBe(422);
  expectNoLeak(answer.text);
  const detail = answer.body.detail as Array<{ loc: unknown; msg: unknown; type: unknown }>;
  expect(Array.isArray(detail)).toBe(true);
  expect(detail.length).toBeGreaterThan(0);
  for (const item of detail) {
    expect(Array.isArray(item.loc)).toBe(true);
    expect(typeof item.msg).toBe('string');
    expect((item.msg as string).length).toBeGreaterThan(0);
    expect(typeof item.type).toBe('string');
  }
  expect(detail.map((d) => d.loc)).toContainEqual(loc);
}

export function keyIdOf(token: string): string {
  return token.slice(0, token.lastIndexOf('.'));
}

export function secretOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

/** POST /v1/check with a well-formed body. */
export function check(base: string, token: string, metadata?: Record<string, unknown>, model = 'gpt-test', operation = 'chat'): Promise<Answer> {
  return call(base, 'POST', '/v1/check', { token, body: metadata === undefined ? { model, operation } : { model, operation, metadata } });
}

export interface RawAnswer {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes as they are over a fresh loopback socket (for requests a well-behaved client refuses
 * to send: non-ASCII or control characters in headers, unknown methods) and reads to the end.
 */
export function rawHttp(base: string, request: string | Buffer): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => (chunks.length > 0 ? finish() : reject(err)));
    socket.on('close', finish);
    socket.end(request);
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), head, headers, body: split < 0 ? '' : text.slice(split + 4) });
    }
  });
}

/** One line of Prometheus text: a sample with its labels. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the samples of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export async function scrape(base: string): Promise<Sample[]> {
  const answer = await call(base, 'GET', '/metrics');
  expect(answer.status).toBe(200);
  return parseMetrics(answer.text);
}

/** Runs `task` over `items` with at most `width` in flight; results in input order. */
export async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}
