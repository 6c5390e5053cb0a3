import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken } from '../../src/core/api-token.js';
import { labelValue, MAX_LABEL_LENGTH } from '../../src/server/metrics.js';
import { migrate } from '../../src/server/store/database.js';
import { KeyStore } from '../../src/server/store/keys.js';
import { check, parseMetrics } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('/metrics label values chosen by clients', () => {
  let s: TestServer;
  let user: string;
  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    user = await createKey(s.url, s.adminToken, 'labels');
  });
  afterAll(() => s.close());

  it('carry no control characters or NUL, and are bounded in length', async () => {
    const hostile = ['nul\0byte', 'esc\u001b[31mred', 'c1\u009bcsi', 'new\nline', 'x'.repeat(200), 'lone\uD800surrogate'];
    for (const name of hostile) expect((await check(s.url, user, {}, name, name)).status).toBe(200);
    const text = (await call(s.url, 'GET', '/metrics')).text;
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).not.toContain('x'.repeat(MAX_LABEL_LENGTH + 1));
    const models = new Set(
      parseMetrics(text)
        .filter((m) => m.name === 'governance_allowed_total')
        .map((m) => m.labels['model']!),
    );
    expect(models).toContain('nul?byte');
    expect(models).toContain('esc?[31mred');
    expect(models).toContain('c1?csi');
    expect(models).toContain(`${'x'.repeat(MAX_LABEL_LENGTH - 1)}~`);
    expect(models).toContain('lone\uFFFDsurrogate');
  });

  it('labelValue keeps ordinary names as they are', () => {
    expect(labelValue('gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(labelValue('modèle-日本')).toBe('modèle-日本');
    expect([...labelValue('😀'.repeat(100))].length).toBe(MAX_LABEL_LENGTH);
  });
});

describe('file modes of the server state', () => {
  let parent: string;
  let s: TestServer;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'govctl-modes-'));
    s = await startTestServer({ dataDir: join(parent, 'data') });
  });
  afterAll(async () => {
    await s.close();
    await rm(parent, { recursive: true, force: true });
  });

  const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

  it('data dir 0700, database and its WAL/SHM 0600, backups dir 0700 with 0600 files', async () => {
    const user = await createKey(s.url, s.adminToken, 'modes');
    expect((await check(s.url, user, {})).status).toBe(200);
    const backup = await call(s.url, 'POST', '/api/admin/audit/backup', { token: s.adminToken });
    expect(backup.status).toBe(201);
    const restored = await call(s.url, 'POST', `/api/admin/audit/backups/${backup.body.id}/restore`, { token: s.adminToken });
    expect(restored.status).toBe(200);

    expect((await mode(s.dataDir)).toString(8)).toBe('700');
    for (const file of ['govctl.db', 'govctl.db-wal', 'govctl.db-shm']) expect((await mode(join(s.dataDir, file))).toString(8), file).toBe('600');
    const backups = join(s.dataDir, 'backups');
    expect((await mode(backups)).toString(8)).toBe('700');
    const pre = restored.body.pre_restore_backup as string;
    for (const file of [`${backup.body.id}.db.gz`, `${backup.body.id}.json`, `${pre}.db`, `${pre}.json`]) {
      expect((await mode(join(backups, file))).toString(8), file).toBe('600');
    }
  });
});

describe('key verification', () => {
  /** A KeyStore that counts the HMACs it computes (the costly, timing-visible step). */
  class CountingKeyStore extends KeyStore {
    hmacs = 0;
    override hashSecret(secret: string): Buffer {
      this.hmacs++;
      return super.hashSecret(secret);
    }
  }

  /** A KeyStore over a fresh in-memory database, with one known key and its secret. */
  function withKnownKey(test: (keys: CountingKeyStore, keyId: string, secret: string) => void): void {
    const db = new Database(':memory:');
    try {
      migrate(db);
      const keys = new CountingKeyStore(db);
      const known = keys.create('known', 'user', 'default');
      test(keys, known.key.key_id, known.token.slice(known.token.lastIndexOf('.') + 1));
    } finally {
      db.close();
    }
  }

  it('a secret verified before is compared without an HMAC; a wrong one still costs one; a revocation drops it', () => {
    withKnownKey((keys, keyId, secret) => {
      expect(keys.verify(keyId, secret).secretOk).toBe(true);
      keys.hmacs = 0;
      expect(keys.verify(keyId, secret).secretOk).toBe(true);
      expect(keys.hmacs).toBe(0);
      const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
      expect(keys.verify(keyId, wrong).secretOk).toBe(false);
      expect(keys.hmacs).toBe(1);
      keys.revoke(keyId);
      const after = keys.verify(keyId, secret);
      expect(after.secretOk).toBe(true);
      expect(after.row?.active).toBe(0);
    });
  });

  it('an unknown key id costs the same HMAC as a known one', () => {
    withKnownKey((keys, keyId, secret) => {
      keys.hmacs = 0;
      expect(keys.verify(keyId, secret).secretOk).toBe(true);
      const forKnown = keys.hmacs;
      keys.hmacs = 0;
      expect(keys.verify(keyId, 'wrong-secret').secretOk).toBe(false);
      const forWrongSecret = keys.hmacs;
      keys.hmacs = 0;
      const unknown = newApiToken();
      expect(keys.verify(unknown.keyId, unknown.secret)).toEqual({ row: undefined, secretOk: false });
      expect(forKnown).toBe(1);
      expect(forWrongSecret).toBe(1);
      expect(keys.hmacs).toBe(1);
    });
  });
});
