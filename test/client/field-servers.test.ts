import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl } from '../helpers/cli.js';
import { startFieldServer, type FieldServer } from '../helpers/field-server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

describe('admin commands against servers in the field', { timeout: 120_000 }, () => {
  let field: FieldServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    field = await startFieldServer();
    env = { GOVCTL_URL: field.url, GOVCTL_ADMIN_KEY: field.adminKey };
  });
  afterAll(() => field.close());

  const run = async (args: string[]) => {
    const result = await govctl(args, env);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    return result;
  };

  it('reads a wrapped key list with other field names', async () => {
    const result = await run(['keys', 'list', '--all', '-o', 'json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      context: null,
      url: field.url,
      keys: [
        // Absent stays absent: no made-up role "user", no made-up dates or counts.
        { id: 'k1', key_id: 'k1', name: 'legacy', role: null, active: true, created_at: '2025-01-01T00:00:00Z', last_used: null, requests_count: null },
        { id: 'k2', key_id: 'k2', name: 'old', role: 'admin', active: false, created_at: null, last_used: '2025-02-01T00:00:00Z', requests_count: 7 },
      ],
    });
    expect(result.stderr).toContain('answered differently from the governance API contract');
    expect(result.stderr).toContain('GET /api/admin/keys $[0].role: expected string, got absent');
    const table = await run(['keys', 'list']);
    expect(table.stdout).toContain('legacy');
    expect(table.stdout).not.toContain('old ');
  });

  it('shows a list-shaped validation detail with the field, exit 2', async () => {
    const result = await run(['keys', 'create', '--name', 'a-name-that-is-too-long']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('body.name: ensure this value has at most 10 characters');
  });

  it('changes policies that have an id but no key', async () => {
    const list = await run(['policies', 'list', '-o', 'json']);
    expect(JSON.parse(list.stdout).policies).toHaveLength(2);
    const disabled = await run(['policies', 'disable', '1', '-o', 'json']);
    expect(disabled.exitCode).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id: 1, enabled: false });
  });

  it('says which operation the server lacks (exit 1), and tells a missing key from a missing route', async () => {
    const backups = await run(['backups', 'list']);
    expect(backups.exitCode).toBe(1);
    expect(backups.stderr).toContain('does not support listing backups (GET /api/admin/audit/backups answered 404)');
    const rotate = await run(['keys', 'rotate', 'k1', '--yes']);
    expect(rotate.exitCode).toBe(1);
    expect(rotate.stderr).toContain('does not support rotating API key k1');
    const revoke = await run(['keys', 'revoke', 'k1', '--yes']);
    expect(revoke.exitCode).toBe(5);
    expect(revoke.stderr).toContain('API key not found');
  });

  it('reports a broken route as a server failure naming the operation (exit 1)', async () => {
    const result = await run(['logs']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('failed reading the usage log (GET /api/admin/logs answered HTTP 500): Internal Server Error');
  });

  it('retries an idempotent request through 503s, but never a POST', async () => {
    field.seen.length = 0;
    field.failFirst.set('GET /api/admin/policies', [503, 503]);
    const read = await run(['policies', 'list']);
    expect(read.exitCode).toBe(0);
    expect(read.stderr).toContain('retrying (2)');
    expect(field.seen.filter((r) => r === 'GET /api/admin/policies')).toHaveLength(3);

    field.seen.length = 0;
    field.failFirst.set('POST /api/admin/keys', [503]);
    const write = await run(['keys', 'create', '--name', 'x']);
    expect(write.exitCode).toBe(1);
    expect(field.seen.filter((r) => r === 'POST /api/admin/keys')).toHaveLength(1);
  });

  it('refuses a wrong static admin key with exit 4', async () => {
    const result = await govctl(['keys', 'list'], { ...env, GOVCTL_ADMIN_KEY: 'wrong' });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('Invalid admin key');
    expect(result.stderr).not.toContain('wrong');
  });
});
