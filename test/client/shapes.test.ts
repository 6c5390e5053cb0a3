import { describe, expect, it } from 'vitest';
import { backupFileName, isSafeFileName } from '../../src/client/download.js';
import type { Deviation } from '../../src/client/deviations.js';
import { metricValue, parsePrometheusText } from '../../src/client/prometheus.js';
import { toApiKey, toBackup, toLogEntry, toPolicy, unwrapList } from '../../src/client/shapes.js';
import { parseServerUrl } from '../../src/client/transport.js';
import { redactCredentials } from '../../src/core/url-credentials.js';
import { jsonLine } from '../../src/cli/commands/logs-run.js';

describe('field shapes: never invent', () => {
  it('unwraps bare and wrapped lists, and refuses anything else', () => {
    expect(unwrapList([1], 'keys', 'x')).toEqual([1]);
    expect(unwrapList({ keys: [2] }, 'keys', 'x')).toEqual([2]);
    expect(unwrapList({ items: [3] }, 'keys', 'x')).toEqual([3]);
    expect(() => unwrapList({ keys: 'no' }, 'keys', 'the key list')).toThrow('the key list with an unexpected shape');
  });

  it('leaves absent key fields null (not "?", "user" or active) and says where the answer differs', () => {
    const out: Deviation[] = [];
    expect(toApiKey({ name: 'n' }, '$[0]', out)).toEqual({
      id: null,
      key_id: null,
      name: 'n',
      role: null,
      active: null,
      created_at: null,
      last_used: null,
      requests_count: null,
    });
    expect(out).toEqual(
      expect.arrayContaining([
        { path: '$[0].key_id', expected: 'string', got: 'absent' },
        { path: '$[0].role', expected: 'string', got: 'absent' },
        { path: '$[0].active', expected: 'boolean', got: 'absent' },
      ]),
    );
    expect(out.find((d) => d.path === '$[0].last_used')).toBeDefined();
  });

  it('reads the known aliases, recording each as a deviation', () => {
    const out: Deviation[] = [];
    expect(toApiKey({ id: 'b', key_id: 'b', name: 'n', is_admin: true, is_active: 0 }, '$', out)).toMatchObject({ role: 'admin', active: false });
    expect(out).toEqual(
      expect.arrayContaining([
        { path: '$.role', expected: 'string', got: 'absent; read from "is_admin"' },
        { path: '$.active', expected: 'boolean', got: 'absent; read from "is_active"' },
      ]),
    );
  });

  it('does not coerce a wrong type into a value', () => {
    const out: Deviation[] = [];
    const entry = toLogEntry({ id: 'd', timestamp: 't', model: 'm', operation: 'o', allowed: 'yes', risk_score: '12', reason: 'ok' }, '$', out);
    expect(entry).toMatchObject({ allowed: null, risk_score: null, key_id: null, latency_ms: null });
    expect(out).toEqual(
      expect.arrayContaining([
        { path: '$.allowed', expected: 'boolean', got: 'string "yes"' },
        { path: '$.risk_score', expected: 'integer', got: 'string "12"' },
      ]),
    );
  });

  it('keeps policies and backups without a field as null, never false', () => {
    expect(toPolicy({ id: 4, enabled: 1 })).toMatchObject({ id: 4, key: null, enabled: true, value: null });
    expect(toPolicy({ id: 5, name: 'x' })).toMatchObject({ enabled: null });
    expect(toBackup({ backup_file: 'f.db' })).toMatchObject({ id: null, backup_file: 'f.db', compressed: null });
  });

  it('makes server text in a deviation visible', () => {
    const out: Deviation[] = [];
    toApiKey({ name: 'n', role: 7, requests_count: '\u009b31m' }, '$', out);
    expect(out).toContainEqual({ path: '$.role', expected: 'string', got: 'number 7' });
    expect(out).toContainEqual({ path: '$.requests_count', expected: 'integer', got: 'string "\\x9b31m"' });
  });
});

describe('Prometheus text exposition', () => {
  const text = [
    '# HELP requests_total Requests, by route.',
    '# TYPE requests_total counter',
    'requests_total{method="POST",endpoint="/v1/check",status="200"} 42',
    'requests_total{method="GET",endpoint="/health",status="200"} 3 1700000000000',
    'odd_label{v="a\\"b\\\\c\\nd"} 1.5e3',
    'no_labels NaN',
    'inf_value{le="+Inf"} +Inf',
    'broken{x=1} 2',
    'missing_value{a="b"}',
    '',
  ].join('\n');

  it('reads names, labels, values, timestamps and families; reports bad lines', () => {
    const parsed = parsePrometheusText(text);
    expect(parsed.families['requests_total']).toEqual({ help: 'Requests, by route.', type: 'counter' });
    expect(parsed.samples).toHaveLength(5);
    expect(metricValue(parsed, 'requests_total', { endpoint: '/v1/check' })).toBe(42);
    expect(parsed.samples[1]).toMatchObject({ timestamp: 1700000000000 });
    expect(parsed.samples[2]).toEqual({ name: 'odd_label', labels: { v: 'a"b\\c\nd' }, value: 1500 });
    expect(Number.isNaN(metricValue(parsed, 'no_labels'))).toBe(true);
    expect(metricValue(parsed, 'inf_value', { le: '+Inf' })).toBe(Infinity);
    expect(parsed.invalid.map((i) => i.line)).toEqual([8, 9]);
  });
});

describe('file names a server supplies', () => {
  it('uses a server name only when it is a plain name not starting with a dot', () => {
    expect(isSafeFileName('govctl-2026.db.gz')).toBe(true);
    for (const bad of ['../../etc/x', '.bashrc', 'a/b', 'a b', '', '..', 'x\u001b']) expect(isSafeFileName(bad)).toBe(false);
    expect(backupFileName('b1', 'snap.db')).toBe('snap.db');
    expect(backupFileName('b1', '../../etc/x')).toBe('b1.backup');
    expect(backupFileName('b1', '.bashrc')).toBe('b1.backup');
    expect(backupFileName('../../x', null)).toBe('_.._x.backup');
    expect(backupFileName('...', null)).toBe('backup.backup');
  });
});

describe('server URLs', () => {
  it('takes credentials out of a URL and never shows them', () => {
    const parsed = parseServerUrl('http://alice:s3cret@127.0.0.1:8080/');
    expect(parsed.display).toBe('http://127.0.0.1:8080');
    expect(parsed.url.href).not.toContain('s3cret');
    expect(parsed.hadCredentials).toBe(true);
    expect(redactCredentials('http://alice:s3cret@host:bad')).toBe('http://***@host:bad');
    expect(() => parseServerUrl('http://alice:s3cret@host:bad')).toThrow(/\*\*\*@host/);
    expect(() => parseServerUrl('ftp://u:p@host')).not.toThrow(/p@host/);
  });
});

describe('logs --follow JSON lines', () => {
  it('escapes every character a terminal could act on, and stays valid JSON', () => {
    const line = jsonLine({ model: 'a\u001b[2Jb\u009bc\u2028d' });
    expect(line).toBe('{"model":"a\\u001b[2Jb\\u009bc\\u2028d"}');
    expect(JSON.parse(line)).toEqual({ model: 'a\u001b[2Jb\u009bc\u2028d' });
  });
});
