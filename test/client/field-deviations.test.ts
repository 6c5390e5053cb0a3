import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { govctl } from '../helpers/cli.js';
import { startFieldServer, type FieldServer } from '../helpers/field-server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;
const ESC = '\u001b';

/** Servers in the field that leave fields out, send the wrong types, or put escape sequences in text. */
describe('servers in the field: absent stays absent, deviations are reported', { timeout: 120_000 }, () => {
  let sparse: FieldServer;
  let html: FieldServer;
  let numeric: FieldServer;

  beforeAll(async () => {
    sparse = await startFieldServer({
      keys: [{ name: 'sparse' }, { key_id: 'k9', name: 'known', role: 'user', active: false }],
      logs: {
        status: 200,
        body: { logs: [{ id: 'd1', timestamp: '2025-01-01T00:00:00Z', model: `m${ESC}[31mred`, operation: 'op' }], total: 1 },
      },
    });
    html = await startFieldServer({ health: { status: 200, body: '<html><body>It works!</body></html>', contentType: 'text/html' } });
    numeric = await startFieldServer({ health: { status: 200, body: '{"status":12}' }, logs: { status: 500, body: { detail: `boom${ESC}]0;pwned\u0007` } } });
  });
  afterAll(async () => {
    await Promise.all([sparse?.close(), html?.close(), numeric?.close()]);
  });

  const run = async (server: FieldServer, args: string[]) => {
    const result = await govctl(args, { GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminKey });
    expect(result.stderr).not.toMatch(STACK_FRAME);
    return result;
  };

  it('keys list: missing fields are null in JSON and - in the table, never "?", "user" or inactive', async () => {
    const json = await run(sparse, ['keys', 'list', '-o', 'json', '--verbose']);
    expect(json.exitCode).toBe(0);
    const { keys } = JSON.parse(json.stdout);
    // The key whose state is unknown is listed (not hidden as inactive); the inactive one is hidden.
    expect(keys).toEqual([
      { id: null, key_id: null, name: 'sparse', role: null, active: null, created_at: null, last_used: null, requests_count: null },
    ]);
    expect(json.stderr).toContain('GET /api/admin/keys $[0].key_id: expected string, got absent');
    expect(json.stderr).toContain('GET /api/admin/keys $[0].active: expected boolean, got absent');

    const table = await run(sparse, ['keys', 'list']);
    // NAME, then KEY ID, ROLE, STATUS, CUSTOMER, CREATED, LAST USED, REQUESTS all unknown.
    expect(table.stdout).toMatch(/^sparse\s+-\s+-\s+-\s+-\s+-\s+-\s+-$/m);
    expect(table.stdout).not.toContain('?');
  });

  it('logs: a decision the server did not describe is not shown as blocked with risk 0', async () => {
    const json = await run(sparse, ['logs', '-o', 'json']);
    expect(json.exitCode).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page.logs[0]).toMatchObject({ id: 'd1', allowed: null, risk_score: null, reason: null, key_id: null, latency_ms: null });
    expect(page.total).toBe(1);
    expect(json.stderr).toContain('$.logs[0].allowed: expected boolean, got absent');

    const table = await run(sparse, ['logs']);
    expect(table.stdout).not.toContain('blocked');
    expect(table.stdout).not.toContain(ESC);
    expect(table.stdout).toContain('m\\x1b[31mred');
    expect(table.stdout).toMatch(/^2025-01-01 00:00:00Z\s+d1\s+-\s+m\\x1b\[31mred\s+op\s+-\s+-\s+-\s+-$/m);
  });

  it('health: a 200 with an HTML page is not healthy', async () => {
    const result = await run(html, ['health', '-o', 'json']);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ healthy: false, status: null, http_status: 200, version: null });
    expect(report.reason).toContain('not a health document (text/html text)');
    expect(report.deviations).toContainEqual({ path: '$', expected: 'a health document {"status": "ok", ...}', got: 'text/html text' });
    const table = await run(html, ['health']);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/status\s+unhealthy \(HTTP 200\)/);
    expect(table.stdout).toContain('not a health document');
  });

  it('health: {"status":12} is not healthy', async () => {
    const result = await run(numeric, ['health', '-o', 'json']);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ healthy: false, status: null, reason: '"status" is number 12, not a string' });
  });

  it('shows a server error detail with its control characters made visible', async () => {
    const result = await run(numeric, ['logs']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).not.toContain(ESC);
    expect(result.stderr).not.toContain('\u0007');
    expect(result.stderr).toContain('boom\\x1b]0;pwned\\x07');
  });

  it('the client exposes the deviations it met, counted and deduplicated', async () => {
    const client = new GovernanceClient({ baseUrl: sparse.url, adminKey: sparse.adminKey, timeoutMs: 5000 });
    try {
      await client.listKeys();
      await client.listKeys();
      const role = client.deviations.find((d) => d.path === '$[0].role');
      expect(role).toEqual({ operation: 'GET /api/admin/keys', path: '$[0].role', expected: 'string', got: 'absent', count: 2 });
    } finally {
      await client.close();
    }
  });
});
