import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { BackupInfo as ServerBackupInfo } from '../../src/server/backups.js';
import type { ApiKeyView } from '../../src/server/store/keys.js';

/**
 * Backups of the reference server, end to end over HTTP on a real SQLite state: snapshot,
 * list, download, verify, restore (and the pre-restore backup it leaves), corruption, delete.
 */

type BackupInfo = ServerBackupInfo;

type KeyView = ApiKeyView;

/** Everything the admin API shows of the state, comparable across a restore. */
interface StateView {
  keys: Array<Partial<KeyView>>;
  policies: unknown[];
  logTotal: number;
  logIds: string[];
}

let srv: TestServer;
let dataDirs: string[] = [];

beforeEach(async () => {
  srv = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
});

afterEach(async () => {
  await srv.close();
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dataDirs = [];
});

function admin(method: string, path: string, body?: unknown) {
  return call(srv.url, method, `/api/admin${path}`, { token: srv.adminToken, ...(body !== undefined ? { body } : {}) });
}

function keyIdOf(token: string): string {
  return token.slice(0, token.lastIndexOf('.'));
}

/** `total` decisions, `concurrency` at a time; every one must be a 200. Returns their ids. */
async function decisions(token: string, total: number, concurrency = 16): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const metadata = n % 3 === 0 ? { contains_personal_data: true } : n % 3 === 1 ? { is_external_model: true } : {};
      const answer = await call(srv.url, 'POST', '/v1/check', { token, body: { model: 'gpt-x', operation: `op-${n}`, metadata } });
      expect(answer.status, answer.text).toBe(200);
      ids.push(answer.body.decision_id as string);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/**
 * The state through the admin API. The admin key's own usage counters move with every admin
 * call (this one included), so they are left out; everything else must match exactly.
 */
async function stateView(): Promise<StateView> {
  const keys = await admin('GET', '/keys');
  expect(keys.status).toBe(200);
  const policies = await admin('GET', '/policies');
  expect(policies.status).toBe(200);
  const logIds: string[] = [];
  let logTotal = 0;
  for (let page = 1; ; page++) {
    const logs = await admin('GET', `/logs?page=${page}&page_size=100`);
    expect(logs.status).toBe(200);
    logTotal = logs.body.total as number;
    logIds.push(...(logs.body.logs as Array<{ id: string }>).map((l) => l.id));
    if (page >= (logs.body.total_pages as number)) break;
  }
  const adminKeyId = keyIdOf(srv.adminToken);
  return {
    keys: (keys.body as KeyView[]).map(({ last_used, requests_count, ...rest }) =>
      rest.key_id === adminKeyId ? rest : { ...rest, last_used, requests_count },
    ),
    policies: policies.body as unknown[],
    logTotal,
    logIds,
  };
}

async function createBackup(compress: boolean): Promise<BackupInfo> {
  const answer = await admin('POST', `/audit/backup${compress ? '' : '?compress=false'}`);
  expect(answer.status, answer.text).toBe(201);
  return answer.body as BackupInfo;
}

async function listIds(): Promise<string[]> {
  const answer = await admin('GET', '/audit/backups');
  expect(answer.status).toBe(200);
  return (answer.body.backups as BackupInfo[]).map((b) => b.id).sort();
}

async function download(id: string): Promise<{ status: number; bytes: Buffer; checksum: string | undefined }> {
  const response = await request(`${srv.url}/api/admin/audit/backups/${id}`, {
    headers: { authorization: `Bearer ${srv.adminToken}` },
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const checksum = response.headers['x-checksum-sha256'];
  return { status: response.statusCode, bytes, checksum: typeof checksum === 'string' ? checksum : undefined };
}

const isGzip = (bytes: Buffer): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The usage-log ids inside a downloaded backup, read with SQLite from a temp copy. */
async function idsInBackup(bytes: Buffer, compressed: boolean): Promise<Set<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'govctl-backup-read-'));
  dataDirs.push(dir);
  const file = join(dir, 'backup.db');
  await writeFile(file, compressed ? gunzipSync(bytes) : bytes);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return new Set((db.prepare('SELECT id FROM usage_logs').all() as Array<{ id: string }>).map((r) => r.id));
  } finally {
    db.close();
  }
}

const backupsDir = (): string => join(srv.dataDir, 'backups');

/** Temp files (".<id>.<rand>.tmp", their -wal/-shm, ".partial") that no operation may leave behind. */
async function strayFiles(): Promise<string[]> {
  return (await readdir(backupsDir())).filter((name) => name.startsWith('.') || name.endsWith('.partial'));
}

async function rewriteRecordedSha(info: BackupInfo): Promise<void> {
  const metaPath = join(backupsDir(), `${info.id}.json`);
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as BackupInfo;
  meta.sha256 = sha256(await readFile(join(backupsDir(), info.backup_file)));
  await writeFile(metaPath, JSON.stringify(meta));
}

describe('backups: round trip', () => {
  it('snapshots, lists, downloads, verifies and restores the whole state; the pre-restore backup restores the changed state', async () => {
    const alice = await createKey(srv.url, srv.adminToken, 'alice');
    const bob = await createKey(srv.url, srv.adminToken, 'bob');
    await decisions(alice, 60);
    await decisions(bob, 20);

    const compressed = await createBackup(true);
    const plain = await createBackup(false);
    const atBackup = await stateView();
    expect(atBackup.logTotal).toBe(80);

    for (const [info, isCompressed] of [[compressed, true], [plain, false]] as const) {
      expect(info.id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
      expect(info.compressed).toBe(isCompressed);
      expect(info.backup_file).toBe(`${info.id}.db${isCompressed ? '.gz' : ''}`);
      expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(info.size_bytes).toBe((await stat(join(backupsDir(), info.backup_file))).size);
      expect(Date.parse(info.created_at)).not.toBeNaN();
    }

    const listed = await admin('GET', '/audit/backups');
    expect(listed.status).toBe(200);
    const listedById = new Map((listed.body.backups as BackupInfo[]).map((b) => [b.id, b]));
    expect(listedById.get(compressed.id)).toEqual(compressed);
    expect(listedById.get(plain.id)).toEqual(plain);

    for (const info of [compressed, plain]) {
      const got = await download(info.id);
      expect(got.status).toBe(200);
      expect(got.bytes.length).toBe(info.size_bytes);
      expect(sha256(got.bytes)).toBe(got.checksum);
      expect(got.checksum).toBe(info.sha256);
      if (info.compressed) expect([...got.bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
      else expect(got.bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
      // The snapshot holds exactly the decisions of the moment.
      expect(await idsInBackup(got.bytes, info.compressed)).toEqual(new Set(atBackup.logIds));

      const verified = await admin('POST', `/audit/backups/${info.id}/verify`);
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({ id: info.id, ok: true, sha256: info.sha256, integrity: 'ok' });
    }

    // Change everything: a new key, a revoked key, patched policies, more decisions.
    const carol = await createKey(srv.url, srv.adminToken, 'carol');
    expect((await admin('DELETE', `/keys/${keyIdOf(bob)}`)).status).toBe(200);
    expect((await admin('PATCH', '/policies/max_risk_score', { value: { max: 90 } })).status).toBe(200);
    expect((await admin('PATCH', '/policies/block_external_models', { enabled: false })).status).toBe(200);
    await decisions(alice, 30);
    await decisions(carol, 10);
    const changed = await stateView();
    expect(changed.logTotal).toBe(120);
    expect(changed).not.toEqual(atBackup);

    const restored = await admin('POST', `/audit/backups/${compressed.id}/restore`);
    expect(restored.status, restored.text).toBe(200);
    expect(restored.body).toMatchObject({ status: 'restored', id: compressed.id });
    const preRestoreId = restored.body.pre_restore_backup as string;
    expect(preRestoreId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    // The state of the backup, but bob, revoked since, stays revoked: revocations survive a restore.
    const restoredView = {
      ...atBackup,
      keys: atBackup.keys.map((k) => (k.key_id === keyIdOf(bob) ? { ...k, active: false, ...('status' in k ? { status: 'revoked' } : {}) } : k)),
    };
    expect(await stateView()).toEqual(restoredView);

    // The restored state is in force: bob stays inactive, carol never existed, the old policies score.
    const bobAfter = await call(srv.url, 'POST', '/api/evaluate', { token: bob });
    expect(bobAfter.status).toBe(403);
    expect(bobAfter.body.detail).toBe('API key inactive');
    const carolAfter = await call(srv.url, 'POST', '/api/evaluate', { token: carol });
    expect(carolAfter.status).toBe(401);
    expect(carolAfter.body.detail).toBe('Invalid API key');
    const scored = await call(srv.url, 'POST', '/v1/check', {
      token: alice,
      body: { model: 'm', operation: 'o', metadata: { is_external_model: true } },
    });
    expect(scored.body).toMatchObject({ allowed: false, risk_score: 50, reason: 'external_model' });

    // The pre-restore backup is listed, sound, and brings the changed state back.
    expect(await listIds()).toContain(preRestoreId);
    const preVerified = await admin('POST', `/audit/backups/${preRestoreId}/verify`);
    expect(preVerified.body).toMatchObject({ id: preRestoreId, ok: true, integrity: 'ok' });
    const back = await admin('POST', `/audit/backups/${preRestoreId}/restore`);
    expect(back.status, back.text).toBe(200);
    expect(await stateView()).toEqual(changed);
    expect((await call(srv.url, 'POST', '/api/evaluate', { token: carol })).status).toBe(200);
    expect((await call(srv.url, 'POST', '/api/evaluate', { token: bob })).status).toBe(403);

    // The uncompressed backup restores the same state as the compressed one.
    expect((await admin('POST', `/audit/backups/${plain.id}/restore`)).status).toBe(200);
    expect(await stateView()).toEqual(restoredView);

    expect(await strayFiles()).toEqual([]);
  });

  it('keeps serving decisions while a backup runs, and the snapshot holds every decision acknowledged before it', async () => {
    const user = await createKey(srv.url, srv.adminToken, 'busy');
    const seeded = await decisions(user, 1500, 32);

    const total = 600;
    const okIds: string[] = [];
    const statuses: number[] = [];
    let next = 0;
    let backupStarted = false;
    let backupDone = false;
    let completedDuringBackup = 0;
    let ackedBeforeBackup: string[] = [];
    let backupPromise: Promise<BackupInfo> | undefined;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const answer = await call(srv.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: `during-${n}` } });
        statuses.push(answer.status);
        if (answer.status === 200) okIds.push(answer.body.decision_id as string);
        if (backupStarted && !backupDone) completedDuringBackup++;
        if (!backupStarted && okIds.length >= 50) {
          backupStarted = true;
          ackedBeforeBackup = [...okIds];
          backupPromise = createBackup(false).finally(() => {
            backupDone = true;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const info = await backupPromise!;

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(okIds.length).toBe(total);
    expect(completedDuringBackup).toBeGreaterThan(0);

    const verified = await admin('POST', `/audit/backups/${info.id}/verify`);
    expect(verified.body).toMatchObject({ ok: true, integrity: 'ok' });
    const inBackup = await idsInBackup((await download(info.id)).bytes, false);
    for (const id of [...seeded, ...ackedBeforeBackup]) expect(inBackup.has(id), `decision ${id} missing from the backup`).toBe(true);
    const known = new Set([...seeded, ...okIds]);
    for (const id of inBackup) expect(known.has(id), `unknown decision ${id} in the backup`).toBe(true);

    const after = await stateView();
    expect(after.logTotal).toBe(1500 + total);
  });

  it('restores while decisions are in flight: each acknowledged decision is in the restored log or in the pre-restore backup', async () => {
    const user = await createKey(srv.url, srv.adminToken, 'busy');
    const old = await decisions(user, 40);
    const info = await createBackup(true);
    await decisions(user, 200, 32);

    const total = 400;
    const okIds: string[] = [];
    let next = 0;
    let restorePromise: Promise<Awaited<ReturnType<typeof admin>>> | undefined;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const answer = await call(srv.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: `restore-${n}` } });
        expect(answer.status, answer.text).toBe(200);
        okIds.push(answer.body.decision_id as string);
        if (restorePromise === undefined && okIds.length >= 50) restorePromise = admin('POST', `/audit/backups/${info.id}/restore`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const restored = await restorePromise!;
    expect(restored.status, restored.text).toBe(200);

    const current = new Set((await stateView()).logIds);
    for (const id of old) expect(current.has(id)).toBe(true);
    const pre = await download(restored.body.pre_restore_backup as string);
    const inPre = await idsInBackup(pre.bytes, isGzip(pre.bytes));
    const lost = okIds.filter((id) => !current.has(id) && !inPre.has(id));
    expect(lost, 'acknowledged decisions in neither the restored log nor the pre-restore backup').toEqual([]);
  });
});

describe('backups: corrupted files', () => {
  type Corruption = { name: string; compress: boolean; damage: (info: BackupInfo, file: string) => Promise<void>; integrity: RegExp };

  const corruptions: Corruption[] = [
    {
      name: 'bytes flipped inside a compressed backup',
      compress: true,
      damage: async (_info, file) => {
        const bytes = await readFile(file);
        for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 16; i++) bytes[i] = bytes[i]! ^ 0xff;
        await writeFile(file, bytes);
      },
      integrity: /not a valid gzip stream|checksum mismatch/,
    },
    {
      name: 'a truncated compressed backup',
      compress: true,
      damage: async (info, file) => truncate(file, Math.floor(info.size_bytes / 2)),
      integrity: /not a valid gzip stream|checksum mismatch/,
    },
    {
      name: 'a truncated uncompressed backup',
      compress: false,
      damage: async (info, file) => truncate(file, Math.floor(info.size_bytes / 2)),
      integrity: /checksum mismatch: recorded [0-9a-f]{64}, file has [0-9a-f]{64}/,
    },
    {
      name: 'an uncompressed backup replaced with garbage',
      compress: false,
      damage: async (_info, file) => writeFile(file, Buffer.alloc(8192, 0x5a)),
      integrity: /checksum mismatch: recorded [0-9a-f]{64}, file has [0-9a-f]{64}/,
    },
    {
      name: 'a missing backup file',
      compress: true,
      damage: async (_info, file) => rm(file),
      integrity: /backup file is missing/,
    },
    {
      // The recorded checksum is rewritten to match, so only SQLite's own checks can tell.
      name: 'a damaged SQLite header with a matching recorded checksum',
      compress: false,
      damage: async (info, file) => {
        const bytes = await readFile(file);
        bytes.fill(0x00, 0, 100);
        await writeFile(file, bytes);
        await rewriteRecordedSha(info);
      },
      integrity: /not a readable SQLite database|integrity check failed/,
    },
    {
      name: 'a sound SQLite file that is not a govctl state, with a matching recorded checksum',
      compress: false,
      damage: async (info, file) => {
        await rm(file);
        const other = new Database(file);
        other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'x\')');
        other.close();
        await rewriteRecordedSha(info);
      },
      integrity: /not a govctl state database \(missing tables: /,
    },
    {
      name: 'a govctl state from a newer schema, with a matching recorded checksum',
      compress: false,
      damage: async (info, file) => {
        const newer = new Database(file);
        newer.pragma('user_version = 999');
        newer.close();
        await rm(`${file}-wal`, { force: true });
        await rm(`${file}-shm`, { force: true });
        await rewriteRecordedSha(info);
      },
      integrity: /schema version 999 is newer than this govctl understands/,
    },
  ];

  it.each(corruptions)('$name: verify says why, restore is refused with 422 and changes nothing', async ({ compress, damage, integrity }) => {
    const user = await createKey(srv.url, srv.adminToken, 'user');
    await decisions(user, 30);
    const info = await createBackup(compress);
    // State moves on after the backup, so a restore that went through would show.
    await createKey(srv.url, srv.adminToken, 'later');
    expect((await admin('PATCH', '/policies/block_personal_data', { enabled: false })).status).toBe(200);
    await decisions(user, 10);

    await damage(info, join(backupsDir(), info.backup_file));
    const before = await stateView();
    const backupsBefore = await listIds();

    const verified = await admin('POST', `/audit/backups/${info.id}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body.id).toBe(info.id);
    expect(verified.body.ok).toBe(false);
    expect(verified.body.integrity).toMatch(integrity);

    const restored = await admin('POST', `/audit/backups/${info.id}/restore`);
    expect(restored.status).toBe(422);
    expect(restored.body.code).toBe('backup_invalid');
    expect(restored.body.detail).toContain(`backup ${info.id} failed verification`);
    expect(restored.body.detail).toContain('nothing was changed');
    expect(restored.body.detail).toMatch(integrity);

    expect(await stateView()).toEqual(before);
    expect(await listIds()).toEqual(backupsBefore);
    expect(await strayFiles()).toEqual([]);
    // And the server still decides and records.
    expect((await call(srv.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o' } })).status).toBe(200);
  });
});

describe('backups: delete and unknown ids', () => {
  it('deletes a backup: its files are gone and every route answers 404 for it afterwards', async () => {
    const keep = await createBackup(true);
    const gone = await createBackup(false);
    const deleted = await admin('DELETE', `/audit/backups/${gone.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ status: 'deleted', id: gone.id });

    const files = await readdir(backupsDir());
    expect(files.filter((f) => f.startsWith(gone.id))).toEqual([]);
    expect(files).toContain(keep.backup_file);
    expect(await listIds()).toEqual([keep.id]);

    expect((await download(gone.id)).status).toBe(404);
    expect((await admin('POST', `/audit/backups/${gone.id}/verify`)).status).toBe(404);
    expect((await admin('POST', `/audit/backups/${gone.id}/restore`)).status).toBe(404);
    const again = await admin('DELETE', `/audit/backups/${gone.id}`);
    expect(again.status).toBe(404);
    expect(again.body.detail).toBe(`Backup ${gone.id} not found`);
  });

  it('answers 404 for unknown and path-traversal-looking ids, and touches no file', async () => {
    const info = await createBackup(false);
    const before = await stateView();
    const ids = [
      '20000101T000000Z-deadbeef',
      'nope',
      '..%2Fgovctl.db',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2E%2E%2Fgovctl.db',
      `${info.id}.json`,
      `${info.id}.db`,
      `..%2Fbackups%2F${info.id}`,
      `${info.id}%2F..%2F..%2Fgovctl.db`,
      `${info.id}%00`,
      '.',
      '%2E%2E',
    ];
    for (const id of ids) {
      expect((await download(id)).status, `GET ${id}`).toBe(404);
      expect((await admin('POST', `/audit/backups/${id}/verify`)).status, `verify ${id}`).toBe(404);
      expect((await admin('POST', `/audit/backups/${id}/restore`)).status, `restore ${id}`).toBe(404);
      expect((await admin('DELETE', `/audit/backups/${id}`)).status, `delete ${id}`).toBe(404);
    }
    expect(await listIds()).toEqual([info.id]);
    expect((await admin('POST', `/audit/backups/${info.id}/verify`)).body).toMatchObject({ ok: true, integrity: 'ok' });
    expect((await readdir(srv.dataDir)).sort()).toEqual(expect.arrayContaining(['backups', 'govctl.db']));
    expect(await stateView()).toEqual(before);
    expect((await call(srv.url, 'GET', '/health')).status).toBe(200);
  });
});

describe('backups: kind (an extension to the contract)', () => {
  it('says manual for a backup asked for and pre_restore for the safety backup a restore takes; metadata without kind reads as manual', async () => {
    const manual = await createBackup(true);
    expect(manual.kind).toBe('manual');
    const restored = await admin('POST', `/audit/backups/${manual.id}/restore`);
    expect(restored.status, restored.text).toBe(200);
    const list = (await admin('GET', '/audit/backups')).body.backups as BackupInfo[];
    expect(Object.fromEntries(list.map((b) => [b.id, b.kind]))).toEqual({ [manual.id]: 'manual', [restored.body.pre_restore_backup]: 'pre_restore' });

    // Metadata a govctl before this extension wrote has no kind: still listed, as manual.
    const metaPath = join(backupsDir(), `${manual.id}.json`);
    const { kind: _kind, ...old } = JSON.parse(await readFile(metaPath, 'utf8')) as BackupInfo;
    await writeFile(metaPath, JSON.stringify(old));
    expect(((await admin('GET', '/audit/backups')).body.backups as BackupInfo[]).find((b) => b.id === manual.id)?.kind).toBe('manual');
    // An unknown kind is malformed metadata, like any other bad field: not listed.
    await writeFile(metaPath, JSON.stringify({ ...old, kind: 'weird' }));
    expect(await listIds()).toEqual([restored.body.pre_restore_backup]);
  });
});

describe('backups: restore preview (an extension to the contract)', () => {
  it('answers what a restore would change (keys, policies, log rows since the backup) and changes nothing', async () => {
    const kept = await createKey(srv.url, srv.adminToken, 'kept');
    const revokedLater = await createKey(srv.url, srv.adminToken, 'revoked-later');
    await decisions(kept, 3, 1);
    const info = await createBackup(true);

    const added = await createKey(srv.url, srv.adminToken, 'added-after');
    expect((await admin('DELETE', `/keys/${keyIdOf(revokedLater)}`)).status).toBe(200);
    expect((await admin('PATCH', '/policies/block_external_models', { enabled: false })).status).toBe(200);
    await decisions(kept, 4, 1);
    const before = await stateView();
    const backupsBefore = await listIds();

    const answer = await admin('GET', `/audit/backups/${info.id}/restore-preview`);
    expect(answer.status, answer.text).toBe(200);
    const preview = answer.body;
    expect(preview).toMatchObject({ dry_run: true, id: info.id });
    // The key made after the backup would disappear; the one revoked since stays revoked (the ledger outlives a restore).
    expect(preview.keys.would_disappear).toEqual([{ key_id: keyIdOf(added), name: 'added-after', role: 'user', status: 'active' }]);
    expect(preview.keys.would_appear).toEqual([]);
    expect(preview.keys.would_change).toEqual([]);
    expect(preview.policies.would_change).toEqual([
      expect.objectContaining({ key: 'block_external_models', enabled: true, changes: { enabled: { from: false, to: true } } }),
    ]);
    expect(preview.policies.would_appear).toEqual([]);
    expect(preview.policies.would_disappear).toEqual([]);
    expect(preview.usage_logs).toEqual({ current: before.logTotal, in_backup: before.logTotal - 4, written_since_backup: 4 });

    expect(await stateView()).toEqual(before);
    expect(await listIds()).toEqual(backupsBefore);
    expect(await strayFiles()).toEqual([]);
  });

  it('404 for an unknown backup, 422 for one that fails verification', async () => {
    expect((await admin('GET', '/audit/backups/20000101T000000Z-deadbeef/restore-preview')).status).toBe(404);
    const info = await createBackup(false);
    const file = join(backupsDir(), info.backup_file);
    await truncate(file, 100);
    const bad = await admin('GET', `/audit/backups/${info.id}/restore-preview`);
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toContain('failed verification');
    expect(await strayFiles()).toEqual([]);
  });
});
