import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl, type CliResult } from '../helpers/cli.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** The guard rails of `govctl backups` against a real reference server (issue 12). */
describe('backups guard rails', { timeout: 120_000 }, () => {
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  const run = async (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => {
    const result = await govctl(args, { ...env, ...extraEnv });
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(`${result.stdout}${result.stderr}`).not.toContain(server.adminToken);
    return result;
  };
  const json = async (args: string[]): Promise<any> => {
    const result = await run([...args, '-o', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  const admin = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `/api/admin${path}`, { token: server.adminToken, ...(body !== undefined ? { body } : {}) });
  const files = async () => (await readdir(join(server.dataDir, 'backups'))).sort();

  beforeAll(async () => {
    server = await startTestServer();
    work = await mkdtemp(join(tmpdir(), 'govctl-backups-guard-'));
    env = { GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken, HOME: work };
  });
  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('create -q prints just the new backup id', async () => {
    const result = await run(['backups', 'create', '-q']);
    expect(result.exitCode, result.stderr).toBe(0);
    const id = result.stdout.trim();
    expect(id).toMatch(/^\S+$/);
    expect((await json(['backups', 'list'])).backups.map((b: { id: string }) => b.id)).toContain(id);
  });

  it('every leaf command has an example in its help', async () => {
    for (const leaf of ['create', 'list', 'verify', 'download', 'restore', 'delete', 'prune']) {
      const help = await run(['backups', leaf, '--help']);
      expect(help.exitCode).toBe(0);
      expect(help.stdout, leaf).toMatch(new RegExp(`EXAMPLES\\n  govctl backups ${leaf}`));
    }
  });

  it('restore --dry-run shows what would appear, disappear and change, and the log rows lost; nothing changes', async () => {
    const user = await createKey(server.url, server.adminToken, 'before-backup');
    for (let i = 0; i < 2; i++) expect((await call(server.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o' } })).status).toBe(200);
    const backup = await json(['backups', 'create']);
    expect(backup).toMatchObject({ context: null, url: server.url, kind: 'manual' });

    await createKey(server.url, server.adminToken, 'after-backup');
    expect((await admin('PATCH', '/policies/block_external_models', { enabled: false })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call(server.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o' } })).status).toBe(200);
    const keysBefore = (await admin('GET', '/keys')).body;
    const filesBefore = await files();

    const table = await run(['backups', 'restore', backup.id, '--dry-run']);
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toContain(`dry run: restoring backup ${backup.id} would change (nothing was changed)`);
    expect(table.stdout).toMatch(/^WOULD\s+KEY ID\s+NAME\s+ROLE\s+STATUS\s+CHANGE/m);
    expect(table.stdout).toMatch(/^disappears\s+\S+\s+after-backup\s+user\s+active/m);
    expect(table.stdout).toMatch(/^changes\s+block_external_models\s.*enabled: false → true/m);
    expect(table.stdout).toContain('usage log: 3 row(s) written since the backup would be gone');

    const plan = await json(['backups', 'restore', backup.id, '--dry-run']);
    expect(plan).toMatchObject({ context: null, url: server.url, dry_run: true, id: backup.id, verified: true });
    expect(plan.keys.would_disappear.map((k: { name: string }) => k.name)).toEqual(['after-backup']);
    expect(plan.policies.would_change.map((p: { key: string }) => p.key)).toEqual(['block_external_models']);
    expect(plan.usage_logs.written_since_backup).toBe(3);

    // Nothing changed: the keys, the policy, the backups (no pre-restore safety backup was taken).
    expect((await admin('GET', '/keys')).body).toEqual(keysBefore.map((k: { key_id: string }) => expect.objectContaining({ key_id: k.key_id })));
    expect((await admin('GET', '/policies')).body.find((p: { key: string }) => p.key === 'block_external_models').enabled).toBe(false);
    expect(await files()).toEqual(filesBefore);
  });

  it('labels pre-restore safety backups, and prune keeps them unless --include-safety; --keep-last 0 needs --all', async () => {
    const mine = await json(['backups', 'create', '--no-compress']);
    const restored = await json(['backups', 'restore', mine.id, '--yes']);
    const safetyId = restored.pre_restore_backup as string;

    const list = await json(['backups', 'list']);
    expect(list).toMatchObject({ context: null, url: server.url });
    const kinds = Object.fromEntries(list.backups.map((b: { id: string; kind: string }) => [b.id, b.kind]));
    expect(kinds[safetyId]).toBe('pre_restore');
    expect(kinds[mine.id]).toBe('manual');
    const table = await run(['backups', 'list']);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+CREATED/m);
    expect(table.stdout).toMatch(new RegExp(`^${safetyId}\\s+pre-restore\\s`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${mine.id}\\s+backup\\s`, 'm'));

    const zero = await run(['backups', 'prune', '--keep-last', '0', '--yes']);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain('--keep-last 0 would delete every backup');
    expect(zero.stderr).toMatch(/hint: .*--all/);
    expect(list.backups.length).toBe((await json(['backups', 'list'])).backups.length);

    const manualIds = list.backups.filter((b: { kind: string }) => b.kind === 'manual').map((b: { id: string }) => b.id);
    const dry = await json(['backups', 'prune', '--keep-last', '0', '--all', '--dry-run']);
    expect(dry.would_delete.sort()).toEqual([...manualIds].sort());
    expect(dry.kept_safety).toEqual([safetyId]);
    const pruned = await run(['backups', 'prune', '--keep-last', '0', '--all', '--yes']);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('1 pre-restore safety backup(s) kept (--include-safety prunes them too)');
    expect((await json(['backups', 'list'])).backups.map((b: { id: string }) => b.id)).toEqual([safetyId]);

    const all = await json(['backups', 'prune', '--keep-last', '0', '--all', '--include-safety', '--yes']);
    expect(all).toMatchObject({ deleted: [safetyId], kept: 0, kept_safety: [] });
    expect((await json(['backups', 'list'])).backups).toEqual([]);
  });

  it('download -o FILE hints at the file argument (exit 2); -o json still works', async () => {
    const backup = await json(['backups', 'create']);
    for (const args of [['backups', 'download', backup.id, '-o', 'snap.db.gz'], ['-o', 'snap.db.gz', 'backups', 'download', backup.id]]) {
      const result = await run(args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('hint: to choose the file name, pass it as an argument: backups download ID FILE');
    }
    expect(await readdir(work)).not.toContain('snap.db.gz');
    const dest = join(work, 'chosen.db.gz');
    expect(await json(['backups', 'download', backup.id, dest])).toMatchObject({ context: null, url: server.url, path: dest, verified: true });
    // Other commands keep commander's own message for a bad -o.
    const other = await run(['backups', 'list', '-o', 'snap.db.gz']);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).not.toContain('backups download ID FILE');
  });

  it('says plainly when a server has no restore preview, and restores nothing', async () => {
    const seen: string[] = [];
    const field: Server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/api/admin/audit/backups') {
        res.end(JSON.stringify({ backups: [{ id: 'b1', backup_file: 'b1.db', size_bytes: 10, sha256: 'a'.repeat(64), compressed: false, created_at: '2026-01-01T00:00:00Z' }] }));
      } else if (req.method === 'POST' && req.url === '/api/admin/audit/backups/b1/verify') {
        res.end(JSON.stringify({ id: 'b1', ok: true, sha256: 'a'.repeat(64), integrity: 'ok' }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ detail: 'Not Found' }));
      }
    });
    await new Promise<void>((resolve) => field.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(field.address() as AddressInfo).port}`;
      const result = await govctl(['backups', 'restore', 'b1', '--dry-run'], { HOME: work, GOVCTL_URL: url, GOVCTL_ADMIN_KEY: 'field-key' });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('does not support a dry run of a restore');
      expect(result.stderr).toContain('nothing was changed');
      expect(seen.filter((r) => r.startsWith('POST') && r.endsWith('/restore'))).toEqual([]);
      // A field server's list without "kind": shown as "-", not made up.
      const list = await govctl(['backups', 'list'], { HOME: work, GOVCTL_URL: url, GOVCTL_ADMIN_KEY: 'field-key' });
      expect(list.stdout).toMatch(/^b1\s+-\s/m);
    } finally {
      await new Promise<void>((resolve) => field.close(() => resolve()));
    }
  });
});
