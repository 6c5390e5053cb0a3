import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { startFieldServer } from '../helpers/field-server.js';
import { call } from '../helpers/http.js';
import { runInProcess } from '../helpers/run-in-process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/;
const keyIdOf = (token: string): string => token.slice(0, token.lastIndexOf('.'));

describe('keys guard rails against the reference server', { timeout: 60_000 }, () => {
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  const run = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runInProcess(args, { env: { ...env, ...extra } });
  const json = async (args: string[], extra: Record<string, string> = {}): Promise<any> => {
    const result = await run([...args, '-o', 'json'], extra);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  const active = async (token: string): Promise<boolean> =>
    (await call(server.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o' } })).status === 200;

  beforeAll(async () => {
    server = await startTestServer();
    home = await mkdtemp(join(tmpdir(), 'govctl-keys-'));
    env = { GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken, HOME: home };
  });
  afterAll(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('-q prints just the token of keys create and keys rotate', async () => {
    const created = await run(['keys', 'create', '--name', 'quiet-svc', '--customer', 'acme', '-q']);
    expect(created.exitCode, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(created.stdout).toBe(`${token}\n`);
    expect(token).toMatch(TOKEN);
    expect(await active(token)).toBe(true);

    const rotated = await run(['keys', 'rotate', 'quiet-svc', '--yes', '-q']);
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    const fresh = rotated.stdout.trim();
    expect(rotated.stdout).toBe(`${fresh}\n`);
    expect(fresh).toMatch(TOKEN);
    expect(await active(token)).toBe(false);
    expect(await active(fresh)).toBe(true);
  });

  it('addresses keys by unique name; an ambiguous name is exit 2 with the ids, an unknown one exit 5', async () => {
    const first = (await json(['keys', 'create', '--name', 'dup'])).api_key as string;
    const second = (await json(['keys', 'create', '--name', 'dup'])).api_key as string;
    const ambiguous = await run(['keys', 'revoke', 'dup', '--yes']);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain(keyIdOf(first));
    expect(ambiguous.stderr).toContain(keyIdOf(second));
    expect(await active(first)).toBe(true);

    // By id it works; then the name is unique among active keys again.
    expect((await run(['keys', 'revoke', keyIdOf(first), '--yes'])).exitCode).toBe(0);
    const byName = await run(['keys', 'revoke', 'dup', '--yes']);
    expect(byName.exitCode, byName.stderr).toBe(0);
    expect(byName.stdout).toContain(keyIdOf(second));
    expect(await active(second)).toBe(false);

    const unknown = await run(['keys', 'revoke', 'no-such-key', '--yes']);
    expect(unknown.exitCode).toBe(5);
    expect(unknown.stderr).toContain('no API key with id or name "no-such-key"');
  });

  it('a rotated key keeps its name: the name means the active key', async () => {
    const created = await json(['keys', 'create', '--name', 'billing-service']);
    const rotated = await json(['keys', 'rotate', 'billing-service', '--yes']);
    expect(rotated.old_key_id).toBe(created.key_id);
    const revoked = await json(['keys', 'revoke', 'billing-service', '--yes']);
    expect(revoked).toMatchObject({ key_id: rotated.key_id, status: 'revoked' });
  });

  it('keys list shows status (active / revoked / rotated) and customer; -o json carries context and url', async () => {
    const created = await json(['keys', 'create', '--name', 'status-probe', '--customer', 'acme']);
    expect(created).toMatchObject({ context: null, url: server.url, name: 'status-probe' });
    const rotated = await json(['keys', 'rotate', created.key_id, '--yes']);
    await json(['keys', 'revoke', rotated.key_id, '--yes']);

    const listed = await json(['keys', 'list', '--all']);
    expect(Object.keys(listed).slice(0, 3)).toEqual(['context', 'url', 'keys']);
    expect(listed.url).toBe(server.url);
    const byId = new Map<string, { status: string; customer_id: string }>(listed.keys.map((k: any) => [k.key_id, k]));
    expect(byId.get(created.key_id)).toMatchObject({ status: 'rotated', customer_id: 'acme' });
    expect(byId.get(rotated.key_id)).toMatchObject({ status: 'revoked', customer_id: 'acme' });
    expect(byId.get(keyIdOf(server.adminToken))).toMatchObject({ status: 'active' });

    const table = await run(['keys', 'list', '--all']);
    expect(table.stdout).toMatch(/^NAME\s+KEY ID\s+ROLE\s+STATUS\s+CUSTOMER\s+CREATED\s+LAST USED\s+REQUESTS$/m);
    expect(table.stdout).toMatch(new RegExp(`status-probe\\s+${created.key_id}\\s+user\\s+rotated\\s+acme`));
    expect(table.stdout).toMatch(new RegExp(`status-probe\\s+${rotated.key_id}\\s+user\\s+revoked\\s+acme`));
    // The key this command authenticates with is marked.
    expect(table.stdout).toMatch(new RegExp(`bootstrap-admin \\(in use\\)\\s+${keyIdOf(server.adminToken)}\\s+admin\\s+active`));

    const revokedAgain = await json(['keys', 'revoke', rotated.key_id, '--yes']);
    expect(revokedAgain).toMatchObject({ url: server.url, status: 'already_revoked' });
  });

  it('revoking or rotating the key in use warns and needs --yes; --dry-run changes nothing', async () => {
    const self = keyIdOf(server.adminToken);
    for (const verb of ['revoke', 'rotate']) {
      const refused = await run(['keys', verb, self]);
      expect(refused.exitCode, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('authenticated with');
      expect(refused.stderr).toContain('last active admin key');
      expect(refused.stderr).toContain('confirmation declined');
      expect(refused.stderr).toMatch(/hint: .*--yes/);

      const dry = await run(['keys', verb, 'bootstrap-admin', '--dry-run']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stderr).toContain('authenticated with');
      expect(dry.stdout).toContain('needs --yes');
      const plan = await json(['keys', verb, self, '--dry-run']);
      expect(plan).toMatchObject({ dry_run: true, action: verb, key_id: self, url: server.url });
      expect(plan.warnings).toHaveLength(2);
    }
    expect(await active(server.adminToken)).toBe(true);
  });

  it('with a second admin key, the key in use still needs --yes; with --yes the rotation goes through', async () => {
    const ops = (await json(['keys', 'create', '--name', 'ops', '--role', 'admin'])).api_key as string;
    const refused = await run(['keys', 'rotate', 'ops'], { GOVCTL_ADMIN_KEY: ops });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('authenticated with');
    expect(refused.stderr).not.toContain('last active admin key');

    // Not the key in use, not the last admin: the usual confirmation (refused without a terminal).
    const usual = await run(['keys', 'revoke', 'ops']);
    expect(usual.exitCode).not.toBe(0);
    expect(usual.stderr).toContain('without confirmation');
    expect(usual.stderr).not.toContain('authenticated with');

    const rotated = await json(['keys', 'rotate', 'ops', '--yes'], { GOVCTL_ADMIN_KEY: ops });
    expect(await active(rotated.api_key)).toBe(true);
    expect((await call(server.url, 'GET', '/api/admin/keys', { token: ops })).status).toBe(403);
    expect((await run(['keys', 'revoke', rotated.key_id, '--yes'])).exitCode).toBe(0);
  });
});

describe('keys guard rails against a field server (static admin key, no status field)', { timeout: 30_000 }, () => {
  it('the last active admin key needs --yes; status falls back to active/inactive', async () => {
    const field = await startFieldServer({
      keys: {
        keys: [
          { id: 'a1', key_id: 'a1', name: 'ops', role: 'admin', active: true, created_at: '2026-01-01T00:00:00Z', last_used: null, requests_count: 0 },
          { id: 'u1', key_id: 'u1', name: 'old', role: 'user', active: false, created_at: '2026-01-01T00:00:00Z', last_used: null, requests_count: 3 },
        ],
      },
    });
    try {
      const env = { GOVCTL_URL: field.url, GOVCTL_ADMIN_KEY: field.adminKey, HOME: tmpdir() };
      const refused = await runInProcess(['keys', 'revoke', 'ops'], { env });
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('last active admin key');
      expect(refused.stderr).not.toContain('authenticated with');
      expect(field.seen).not.toContain('DELETE /api/admin/keys/a1');

      const table = await runInProcess(['keys', 'list', '--all'], { env });
      expect(table.exitCode, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^ops\s+a1\s+admin\s+active\s+-/m);
      expect(table.stdout).toMatch(/^old\s+u1\s+user\s+inactive\s+-/m);
    } finally {
      await field.close();
    }
  });
});
