import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl, type CliResult } from '../helpers/cli.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

describe('admin commands against the reference server', { timeout: 120_000 }, () => {
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;
  /** Everything every command printed, to search for secrets at the end. */
  const transcript: string[] = [];
  const tokens: string[] = [];

  const run = async (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => {
    const result = await govctl(args, { ...env, ...extraEnv });
    transcript.push(result.stdout, result.stderr);
    return result;
  };
  const json = async (args: string[]): Promise<any> => {
    const result = await run([...args, '-o', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    server = await startTestServer();
    work = await mkdtemp(join(tmpdir(), 'govctl-admin-'));
    env = { GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken, HOME: work };
  });
  afterAll(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('creates a key whose token is printed once and authenticates /v1/check', async () => {
    const table = await run(['keys', 'create', '--name', 'billing']);
    expect(table.exitCode).toBe(0);
    const token = /([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})/.exec(table.stdout)?.[1];
    expect(token).toBeDefined();
    expect(table.stderr).toContain('shown once');
    tokens.push(token!);
    const check = await call(server.url, 'POST', '/v1/check', { token: token!, body: { model: 'm', operation: 'o' } });
    expect(check.status).toBe(200);

    const created = await json(['keys', 'create', '--name', 'ci', '--role', 'admin']);
    expect(created).toMatchObject({ context: null, url: server.url, name: 'ci', role: 'admin' });
    expect(Object.keys(created).sort()).toEqual(['api_key', 'context', 'created_at', 'key_id', 'name', 'role', 'url']);
    tokens.push(created.api_key);
  });

  it('lists keys as a table and as JSON, never with a secret', async () => {
    const table = await run(['keys', 'list']);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+KEY ID\s+ROLE\s+STATUS\s+CUSTOMER\s+CREATED\s+LAST USED\s+REQUESTS$/m);
    expect(table.stdout).toContain('billing');
    const listed = await json(['keys', 'list']);
    expect(listed).toMatchObject({ context: null, url: server.url });
    const keys = listed.keys;
    expect(keys.map((k: { name: string }) => k.name)).toEqual(['bootstrap-admin', 'billing', 'ci']);
    for (const key of keys) expect(key).not.toHaveProperty('api_key');
  });

  it('rotates: the old token is refused (403), the new one works; revoke refuses the token', async () => {
    const keys = (await json(['keys', 'list'])).keys;
    const billing = keys.find((k: { name: string }) => k.name === 'billing');
    const oldToken = tokens[0]!;

    const refused = await run(['keys', 'rotate', billing.key_id]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('without confirmation');
    expect(refused.stderr).toContain('--yes');

    const dry = await run(['keys', 'rotate', billing.key_id, '--dry-run']);
    expect(dry).toMatchObject({ exitCode: 0 });
    expect((await call(server.url, 'POST', '/v1/check', { token: oldToken, body: { model: 'm', operation: 'o' } })).status).toBe(200);

    const rotated = await json(['keys', 'rotate', billing.key_id, '--yes']);
    expect(rotated.old_key_id).toBe(billing.key_id);
    tokens.push(rotated.api_key);
    expect((await call(server.url, 'POST', '/v1/check', { token: oldToken, body: { model: 'm', operation: 'o' } })).status).toBe(403);
    expect((await call(server.url, 'POST', '/v1/check', { token: rotated.api_key, body: { model: 'm', operation: 'o' } })).status).toBe(200);

    const revoke = await run(['keys', 'revoke', rotated.key_id, '--yes']);
    expect(revoke.exitCode).toBe(0);
    expect((await call(server.url, 'POST', '/v1/check', { token: rotated.api_key, body: { model: 'm', operation: 'o' } })).status).toBe(403);
    const again = await run(['keys', 'revoke', rotated.key_id, '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('already inactive');

    const active = (await json(['keys', 'list'])).keys;
    const all = (await json(['keys', 'list', '--all'])).keys;
    expect(all.length - active.length).toBe(2);
  });

  it('reports an unknown key id as not found (exit 5)', async () => {
    const result = await run(['keys', 'revoke', '00000000-0000-4000-8000-000000000000', '--yes']);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain('no API key with id or name "00000000-0000-4000-8000-000000000000"');
  });

  it('changes the next decision through a policy', async () => {
    const token = (await json(['keys', 'create', '--name', 'policy-probe'])).api_key as string;
    tokens.push(token);
    const decide = async () =>
      (await call(server.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o', metadata: { contains_personal_data: true } } })).body;
    expect(await decide()).toMatchObject({ allowed: false, risk_score: 70 });

    expect((await run(['policies', 'disable', 'block_personal_data'])).exitCode).toBe(0);
    expect(await decide()).toMatchObject({ allowed: true, risk_score: 0 });
    expect((await run(['policies', 'enable', 'block_personal_data'])).exitCode).toBe(0);
    expect((await run(['policies', 'set', 'max_risk_score', '--value', '{"max": 71}'])).exitCode).toBe(0);
    expect(await decide()).toMatchObject({ allowed: true, risk_score: 70 });

    const policy = await json(['policies', 'get', 'max_risk_score']);
    expect(policy).toMatchObject({ key: 'max_risk_score', enabled: true, value: { max: 71 } });
    const list = await run(['policies', 'list']);
    expect(list.stdout).toMatch(/^max_risk_score\s+yes\s+max=71\s/m);
    expect(list.stdout).not.toContain('{');

    const bad = await run(['policies', 'set', 'max_risk_score', '--value', '{max: 1}']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--value is not valid JSON');
    const rejected = await run(['policies', 'set', 'max_risk_score', '--value', '"high"']);
    expect(rejected.exitCode).toBe(2);
    expect(rejected.stderr).toContain('max_risk_score needs');
    const unknown = await run(['policies', 'get', 'nope']);
    expect(unknown.exitCode).toBe(5);
  });

  it('reads the usage log with filters and pages', async () => {
    const token = (await json(['keys', 'create', '--name', 'logger'])).api_key as string;
    tokens.push(token);
    for (let i = 0; i < 5; i++) {
      await call(server.url, 'POST', '/v1/check', { token, body: { model: 'log-model', operation: `op-${i}`, metadata: { is_external_model: i % 2 === 0 } } });
    }
    const page = await json(['logs', '--model', 'log-model', '--limit', '2']);
    expect(page).toMatchObject({ context: null, url: server.url, total: 5, page: 1, limit: 2, total_pages: 3 });
    expect(page.logs.map((l: { operation: string }) => l.operation)).toEqual(['op-4', 'op-3']);
    const third = await json(['logs', '--model', 'log-model', '--limit', '2', '--page', '3']);
    expect(third.logs.map((l: { operation: string }) => l.operation)).toEqual(['op-0']);
    const blocked = await json(['logs', '--model', 'log-model', '--blocked', '--since', '1h']);
    expect(blocked.total).toBe(0);
    const allowed = await json(['logs', '--model', 'log-model', '--allowed', '--until', '2999-01-01T00:00:00Z']);
    expect(allowed.total).toBe(5);
    const table = await run(['logs', '--model', 'log-model']);
    expect(table.stdout).toMatch(/^TIME\s+ID\s+DECISION\s+MODEL/m);
    const bad = await run(['logs', '--since', 'yesterday']);
    expect(bad.exitCode).toBe(2);
    const both = await run(['logs', '--allowed', '--blocked']);
    expect(both.exitCode).toBe(2);
  });

  it('creates, lists, verifies, downloads, restores and prunes backups', async () => {
    const created = await json(['backups', 'create']);
    expect(created).toMatchObject({ compressed: true });
    const plain = await json(['backups', 'create', '--no-compress']);
    expect(plain).toMatchObject({ compressed: false });
    const list = await json(['backups', 'list']);
    expect(list).toMatchObject({ context: null, url: server.url });
    expect(list.backups.map((b: { id: string }) => b.id)).toEqual(expect.arrayContaining([created.id, plain.id]));

    expect((await json(['backups', 'verify', created.id])).ok).toBe(true);

    const dest = join(work, 'snap.db.gz');
    const download = await json(['backups', 'download', created.id, dest]);
    expect(download).toMatchObject({ path: dest, verified: true, sha256: created.sha256 });
    expect(createHash('sha256').update(await readFile(dest)).digest('hex')).toBe(created.sha256);
    const exists = await run(['backups', 'download', created.id, '--out', dest]);
    expect(exists.exitCode).toBe(2);

    const before = (await json(['keys', 'list', '--all'])).keys;
    tokens.push((await json(['keys', 'create', '--name', 'after-backup'])).api_key);
    const noYes = await run(['backups', 'restore', created.id]);
    expect(noYes.exitCode).toBe(2);
    const restored = await json(['backups', 'restore', created.id, '--yes']);
    expect(restored).toMatchObject({ status: 'restored', id: created.id });
    expect(restored.pre_restore_backup).toEqual(expect.any(String));
    const after = (await json(['keys', 'list', '--all'])).keys;
    expect(after.map((k: { key_id: string }) => k.key_id)).toEqual(before.map((k: { key_id: string }) => k.key_id));

    // --include-safety: the restore's pre-restore backup is pruned like the others.
    const dry = await json(['backups', 'prune', '--keep-last', '1', '--include-safety', '--dry-run']);
    expect(dry.would_delete).toHaveLength((await json(['backups', 'list'])).backups.length - 1);
    const pruned = await json(['backups', 'prune', '--keep-last', '1', '--include-safety', '--yes']);
    expect(pruned.kept).toBe(1);
    expect((await json(['backups', 'list'])).backups).toHaveLength(1);
  });

  it('rejects a tampered backup download and leaves no file behind', async () => {
    const backup = await json(['backups', 'create', '--no-compress']);
    const file = join(server.dataDir, 'backups', backup.backup_file);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(file, bytes);
    const dest = join(work, 'tampered.db');
    const result = await run(['backups', 'download', backup.id, dest]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('failed its checksum');
    expect(existsSync(dest)).toBe(false);
    expect((await readdir(work)).filter((f) => f.includes('tampered'))).toEqual([]);
    const verify = await run(['backups', 'verify', backup.id]);
    expect(verify.exitCode).toBe(1);
    const restore = await run(['backups', 'restore', backup.id, '--yes']);
    expect(restore.exitCode).toBe(1);
    expect(restore.stderr).toContain('failed verification');
    const deleted = await run(['backups', 'delete', backup.id, '--yes']);
    expect(deleted.exitCode).toBe(0);
    expect((await run(['backups', 'delete', backup.id, '--yes'])).exitCode).toBe(5);
  });

  it('refuses a wrong admin key with exit 4', async () => {
    const result = await run(['keys', 'list'], { GOVCTL_ADMIN_KEY: `${server.adminToken.split('.')[0]}.${'B'.repeat(43)}` });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('Invalid API key');
    const userToken = (await json(['keys', 'create', '--name', 'not-admin'])).api_key as string;
    tokens.push(userToken);
    const userKey = await run(['keys', 'list'], { GOVCTL_ADMIN_KEY: userToken });
    expect(userKey.exitCode).toBe(4);
    expect(userKey.stderr).toContain('Admin access required');
  });

  it('names the host when unreachable (exit 3)', async () => {
    const result = await run(['keys', 'list'], { GOVCTL_URL: 'http://127.0.0.1:9' });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('cannot reach 127.0.0.1:9');
  });

  it('never printed a token after its one showing, nor the admin key, even with --verbose', async () => {
    const verbose = await run(['keys', 'list', '--verbose', '--all']);
    expect(verbose.exitCode).toBe(0);
    const everything = transcript.join('\n');
    expect(everything).not.toContain(server.adminToken);
    for (const token of tokens) {
      const shows = everything.split(token).length - 1;
      expect(shows, `token ${token.slice(0, 8)} printed ${shows} times`).toBe(1);
    }
    expect(everything).not.toMatch(STACK_FRAME);
    // The reference server implements the contract exactly: no deviation was noted.
    expect(everything).not.toContain('answered differently from the governance API contract');
  });
});
