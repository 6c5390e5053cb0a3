import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PRE_RESTORE_TEMP, type BackupInfo } from '../../src/server/backups.js';
import { expectError, keyIdOf } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Restores that must not lose anything: the pre-restore backup is durable and listed before the
 * swap (or the restore is refused), revocations outlive a restore, and backup metadata cannot
 * point outside the backups directory.
 */

let srv: TestServer;
/** Data dirs of servers restarted on their predecessor's dir (not removed by their close()). */
let extraDirs: string[] = [];

beforeEach(async () => {
  srv = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
});

afterEach(async () => {
  await srv.close();
  await Promise.all(extraDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  extraDirs = [];
});

const backupsDir = (): string => join(srv.dataDir, 'backups');

function admin(method: string, path: string) {
  return call(srv.url, method, `/api/admin${path}`, { token: srv.adminToken });
}

async function createBackup(): Promise<BackupInfo> {
  const answer = await admin('POST', '/audit/backup');
  expect(answer.status, answer.text).toBe(201);
  return answer.body as BackupInfo;
}

async function listed(): Promise<BackupInfo[]> {
  const answer = await admin('GET', '/audit/backups');
  expect(answer.status).toBe(200);
  return answer.body.backups as BackupInfo[];
}

/** What a restore could change, seen through the API (usage counters of the admin key aside). */
async function stateView(): Promise<unknown> {
  const keys = (await admin('GET', '/keys')).body as Array<Record<string, unknown>>;
  const logs = (await admin('GET', '/logs?page_size=100')).body as { total: number; logs: Array<{ id: string }> };
  return {
    keys: keys.map(({ last_used: _l, requests_count: _r, ...rest }) => rest),
    policies: (await admin('GET', '/policies')).body,
    logs: [logs.total, logs.logs.map((l) => l.id)],
  };
}

async function decide(token: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const answer = await call(srv.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: `op-${i}` } });
    expect(answer.status, answer.text).toBe(200);
  }
}

describe('restore: the pre-restore backup', () => {
  it('is listed, on disk with its metadata, and verifiable once the restore answers', async () => {
    const user = await createKey(srv.url, srv.adminToken, 'user');
    await decide(user, 5);
    const backup = await createBackup();
    await decide(user, 7);

    const restored = await admin('POST', `/audit/backups/${backup.id}/restore`);
    expect(restored.status, restored.text).toBe(200);
    const preId = restored.body.pre_restore_backup as string;
    const pre = (await listed()).find((b) => b.id === preId);
    expect(pre).toBeDefined();
    expect(pre!.backup_file.startsWith(preId)).toBe(true);
    const meta = JSON.parse(await readFile(join(backupsDir(), `${preId}.json`), 'utf8')) as BackupInfo;
    expect(meta).toEqual(pre);
    expect(existsSync(join(backupsDir(), pre!.backup_file))).toBe(true);
    expect((await admin('POST', `/audit/backups/${preId}/verify`)).body).toMatchObject({ id: preId, ok: true, integrity: 'ok' });
    // It holds the 12 decisions the restore replaced.
    expect((await admin('POST', `/audit/backups/${preId}/restore`)).status).toBe(200);
    expect(((await admin('GET', '/logs')).body as { total: number }).total).toBe(12);
    expect((await readdir(backupsDir())).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  // /dev/full answers every write with ENOSPC: a real "disk full" for the pre-restore snapshot.
  it.skipIf(!existsSync('/dev/full'))('when it cannot be written (disk full), the restore is refused with 507 and nothing changes', async () => {
    const user = await createKey(srv.url, srv.adminToken, 'user');
    await decide(user, 3);
    const backup = await createBackup();
    await decide(user, 4);
    const before = await stateView();
    const backupsBefore = await listed();

    await symlink('/dev/full', join(backupsDir(), PRE_RESTORE_TEMP));
    const refused = await admin('POST', `/audit/backups/${backup.id}/restore`);
    expectError(refused, 507);
    expect(refused.body.code).toBe('pre_restore_backup_failed');
    expect(refused.body.detail).toMatch(/restore refused.*disk full.*nothing was changed/i);

    expect(await stateView()).toEqual(before);
    expect(await listed()).toEqual(backupsBefore);
    // No half-made backup is left behind.
    expect((await readdir(backupsDir())).filter((name) => name.startsWith('.'))).toEqual([]);
    // Still serving and writable.
    await decide(user, 1);
    expect((await call(srv.url, 'GET', '/health')).status).toBe(200);
  });

  it('when a directory is in the way, the restore is refused (5xx in the contract shape) and nothing changes', async () => {
    const user = await createKey(srv.url, srv.adminToken, 'user');
    const backup = await createBackup();
    await decide(user, 2);
    const before = await stateView();
    const backupsBefore = await listed();

    const blocker = join(backupsDir(), PRE_RESTORE_TEMP);
    await mkdir(blocker);
    await writeFile(join(blocker, 'keep'), 'x');
    const refused = await admin('POST', `/audit/backups/${backup.id}/restore`);
    expectError(refused, 500);
    expect(refused.body.code).toBe('pre_restore_backup_failed');
    expect(await stateView()).toEqual(before);
    expect(await listed()).toEqual(backupsBefore);

    // Once the fault is gone, the same restore goes through.
    await rm(blocker, { recursive: true });
    const restored = await admin('POST', `/audit/backups/${backup.id}/restore`);
    expect(restored.status, restored.text).toBe(200);
    expect(((await admin('GET', '/logs')).body as { total: number }).total).toBe(0);
  });
});

describe('restore: revocations survive it', () => {
  it('a key revoked or rotated away after the backup stays inactive; a key made after it is gone', async () => {
    const revoked = await createKey(srv.url, srv.adminToken, 'revoked-later');
    const rotated = await createKey(srv.url, srv.adminToken, 'rotated-later');
    const kept = await createKey(srv.url, srv.adminToken, 'kept');
    const backup = await createBackup();

    expect((await admin('DELETE', `/keys/${keyIdOf(revoked)}`)).status).toBe(200);
    const rotation = await admin('POST', `/keys/${keyIdOf(rotated)}/rotate`);
    expect(rotation.status).toBe(200);
    const replacement = rotation.body.api_key as string;

    expect((await admin('POST', `/audit/backups/${backup.id}/restore`)).status).toBe(200);

    for (const token of [revoked, rotated]) {
      const answer = await call(srv.url, 'POST', '/api/evaluate', { token });
      expect(answer.status).toBe(403);
      expect(answer.body.detail).toBe('API key inactive');
    }
    // The replacement did not exist when the backup was taken.
    expect((await call(srv.url, 'POST', '/api/evaluate', { token: replacement })).status).toBe(401);
    expect((await call(srv.url, 'POST', '/api/evaluate', { token: kept })).status).toBe(200);
    const keys = (await admin('GET', '/keys')).body as Array<{ key_id: string; active: boolean }>;
    expect(keys.find((k) => k.key_id === keyIdOf(revoked))?.active).toBe(false);
    expect(keys.find((k) => k.key_id === keyIdOf(rotated))?.active).toBe(false);

    // And after a restart on the same data dir.
    const dataDir = srv.dataDir;
    const adminToken = srv.adminToken;
    await srv.server.close();
    extraDirs.push(dataDir);
    srv = await startTestServer({ dataDir, bootstrapAdminToken: adminToken });
    expect((await call(srv.url, 'POST', '/api/evaluate', { token: revoked })).status).toBe(403);
    expect((await call(srv.url, 'POST', '/api/evaluate', { token: kept })).status).toBe(200);
  });
});

describe('backup metadata cannot point outside the backups directory', () => {
  const hostile = ['../govctl.db', '/etc/passwd', '../../../../etc/passwd', 'sub/../../govctl.db', 'other.db'];

  it.each(hostile)('backup_file %j: not listed, and every route answers 404 without touching the file', async (backupFile) => {
    const real = await createBackup();
    const meta = JSON.parse(await readFile(join(backupsDir(), `${real.id}.json`), 'utf8')) as BackupInfo;
    const forgedId = real.id.replace(/-[0-9a-f]{8}$/, '-0badf00d');
    await writeFile(join(backupsDir(), `${forgedId}.json`), JSON.stringify({ ...meta, id: forgedId, backup_file: backupFile }));

    expect((await listed()).map((b) => b.id)).toEqual([real.id]);
    const download = await call(srv.url, 'GET', `/api/admin/audit/backups/${forgedId}`, { token: srv.adminToken });
    expect(download.status).toBe(404);
    expect((await admin('POST', `/audit/backups/${forgedId}/verify`)).status).toBe(404);
    expect((await admin('POST', `/audit/backups/${forgedId}/restore`)).status).toBe(404);
    expect((await admin('DELETE', `/audit/backups/${forgedId}`)).status).toBe(404);
    // The live database is still there and the server still works.
    expect(existsSync(join(srv.dataDir, 'govctl.db'))).toBe(true);
    expect((await call(srv.url, 'GET', '/health')).status).toBe(200);
  });

  it('metadata whose fields have the wrong types or another id is skipped', async () => {
    const real = await createBackup();
    const meta = JSON.parse(await readFile(join(backupsDir(), `${real.id}.json`), 'utf8')) as BackupInfo;
    const forged = (suffix: string) => real.id.replace(/-[0-9a-f]{8}$/, `-${suffix}`);
    await writeFile(join(backupsDir(), `${forged('00000001')}.json`), JSON.stringify({ ...meta, id: forged('00000001'), backup_file: `${forged('00000001')}.db.gz`, sha256: 7 }));
    await writeFile(join(backupsDir(), `${forged('00000002')}.json`), JSON.stringify(meta)); // names another backup
    await writeFile(join(backupsDir(), `${forged('00000003')}.json`), 'null');
    expect((await listed()).map((b) => b.id)).toEqual([real.id]);
  });
});
