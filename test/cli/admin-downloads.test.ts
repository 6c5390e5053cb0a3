import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOVCTL, type CliResult } from '../helpers/cli.js';
import { startFieldServer, type FieldServer } from '../helpers/field-server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** A server in the field that names its backups badly: a path, a dot file, an unsafe id. */
describe('backups download: file names and destinations', { timeout: 120_000 }, () => {
  let field: FieldServer;
  let work: string;
  const bytes = (n: number) => Buffer.alloc(1000 + n, n);

  beforeAll(async () => {
    field = await startFieldServer({
      backups: [
        { meta: { id: 'b1', backup_file: '../../etc/x' }, bytes: bytes(1), disposition: 'attachment; filename="../../etc/x"' },
        { meta: { id: 'b2', backup_file: '.bashrc' }, bytes: bytes(2) },
        { meta: { id: 'b3', backup_file: 'good-2026.db.gz' }, bytes: bytes(3) },
        { meta: { id: '../evil' }, bytes: bytes(4) },
      ],
    });
    work = await mkdtemp(join(tmpdir(), 'govctl-dl-'));
  });
  afterAll(async () => {
    await field?.close();
    if (work) {
      await chmod(join(work, 'locked'), 0o700).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  });

  /** govctl in `cwd`, as a user in that directory would run it. */
  const run = async (cwd: string, args: string[]): Promise<CliResult> => {
    const result = await execa(process.execPath, [GOVCTL, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: work, GOVCTL_URL: field.url, GOVCTL_ADMIN_KEY: field.adminKey },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
    });
    const out = { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    expect(out.stderr).not.toMatch(STACK_FRAME);
    return out;
  };
  const dir = async (name: string) => {
    const path = join(work, name);
    await mkdir(path, { recursive: true });
    return path;
  };

  it('uses a server-supplied name only when it is a plain file name; else <id>.backup', async () => {
    const cwd = await dir('names');
    const b1 = await run(cwd, ['backups', 'download', 'b1']);
    expect(b1.exitCode, b1.stderr).toBe(0);
    expect(b1.stderr).toContain('"../../etc/x", which is not a plain file name; saving it as b1.backup');
    const b2 = await run(cwd, ['backups', 'download', 'b2', '-o', 'json']);
    expect(b2.exitCode).toBe(0);
    expect(JSON.parse(b2.stdout)).toMatchObject({ path: join(cwd, 'b2.backup'), verified: true });
    expect((await run(cwd, ['backups', 'download', 'b3'])).exitCode).toBe(0);
    const evil = await run(cwd, ['backups', 'download', '../evil']);
    expect(evil.exitCode, evil.stderr).toBe(0);
    expect((await readdir(cwd)).sort()).toEqual(['_evil.backup', 'b1.backup', 'b2.backup', 'good-2026.db.gz']);
    expect(await readFile(join(cwd, 'b1.backup'))).toEqual(bytes(1));
    expect((await readdir(work)).sort()).toEqual(['names']);
  });

  it('--force onto a directory is an ordinary error (exit 2), found before the download starts', async () => {
    const cwd = await dir('force');
    await mkdir(join(cwd, 'target-dir'));
    field.seen.length = 0;
    const result = await run(cwd, ['backups', 'download', 'b3', 'target-dir', '--force']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`cannot write ${join(cwd, 'target-dir')}: it is a directory`);
    expect(field.seen.filter((r) => r.startsWith('GET /api/admin/audit/backups/'))).toEqual([]);
    expect(await readdir(join(cwd, 'target-dir'))).toEqual([]);
  });

  it('a missing or unwritable destination is exit 2 naming the path; an existing file needs --force', async () => {
    const cwd = await dir('dest');
    const missing = await run(cwd, ['backups', 'download', 'b3', join(cwd, 'no', 'such', 'dir', 'x.db')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`${join(cwd, 'no', 'such', 'dir')}: no such file or directory`);

    await writeFile(join(cwd, 'a-file'), '');
    const notDir = await run(cwd, ['backups', 'download', 'b3', join(cwd, 'a-file', 'x.db')]);
    expect(notDir.exitCode).toBe(2);
    expect(notDir.stderr).toContain(join(cwd, 'a-file'));

    if (process.getuid?.() !== 0) {
      const locked = await dir('locked');
      await chmod(locked, 0o500);
      const denied = await run(cwd, ['backups', 'download', 'b3', join(locked, 'x.db')]);
      expect(denied.exitCode).toBe(2);
      expect(denied.stderr).toContain(`${locked}: permission denied`);
    }

    await rm(join(cwd, 'a-file'));
    await writeFile(join(cwd, 'good-2026.db.gz'), 'old');
    const exists = await run(cwd, ['backups', 'download', 'b3']);
    expect(exists.exitCode).toBe(2);
    expect(exists.stderr).toContain('already exists');
    const forced = await run(cwd, ['backups', 'download', 'b3', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(await readFile(join(cwd, 'good-2026.db.gz'))).toEqual(bytes(3));
    expect((await readdir(cwd)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});
