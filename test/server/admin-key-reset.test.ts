import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormedApiToken, newApiToken } from '../../src/core/api-token.js';
import { govctl } from '../helpers/cli.js';
import { call } from '../helpers/http.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

/**
 * `govctl serve` on an initialised data dir ignores the bootstrap key (and says so), and
 * `govctl serve reset-admin-key` recovers a lost admin key offline: real child processes on a
 * real data dir (uses dist/: `npm run build` first).
 */

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'govctl-reset-'));
});

afterEach(async () => {
  await stopSpawnedServers();
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const keysStatus = async (url: string, token: string): Promise<number> => (await call(url, 'GET', '/api/admin/keys', { token })).status;

describe('serve on an initialised data dir', () => {
  it('neither GOVCTL_BOOTSTRAP_ADMIN_KEY nor --admin-key-file is used, and one stderr line says so', async () => {
    const dataDir = join(work, 'initialised');
    const first = await spawnServer({ dataDir });
    expect(first.stderr()).not.toMatch(/not used/);
    await first.stop();

    const keyFile = join(work, 'admin.key');
    const other = newApiToken().token;
    const again = await spawnServer({ dataDir, adminToken: other, args: ['--admin-key-file', keyFile] });
    await again.waitForStderr(/not used/);
    const lines = again.stderr().split('\n').filter((line) => /not used/.test(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/GOVCTL_BOOTSTRAP_ADMIN_KEY and --admin-key-file not used: .* already has an admin key/);
    expect(lines[0]).toContain('govctl serve reset-admin-key --data-dir');
    expect(lines[0]).not.toContain(other);
    // No "first start" key file was written, and the offered key was not installed.
    expect(existsSync(keyFile)).toBe(false);
    expect(await keysStatus(again.url, other)).toBe(401);
    expect(await keysStatus(again.url, first.adminToken)).toBe(200);
  });
});

describe('serve reset-admin-key', () => {
  it('refuses while a server runs on the data dir; with the server stopped, prints a new admin key once', async () => {
    const dataDir = join(work, 'reset');
    const running = await spawnServer({ dataDir });
    const oldToken = running.adminToken;

    const refused = await govctl(['serve', 'reset-admin-key', '--data-dir', dataDir]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/in use by a running server: stop it first/);
    expect(refused.stdout).toBe('');
    await running.stop();

    const reset = await govctl(['serve', 'reset-admin-key', '--data-dir', dataDir]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const token = reset.stdout.trim();
    expect(isWellFormedApiToken(token)).toBe(true);
    expect(reset.stderr).toMatch(/shown this once/);
    expect(reset.stderr).not.toContain(token);

    const restarted = await spawnServer({ dataDir });
    expect(await keysStatus(restarted.url, token)).toBe(200);
    // Without --revoke-existing the old admin key keeps working.
    expect(await keysStatus(restarted.url, oldToken)).toBe(200);
    await restarted.stop();

    const revoking = await govctl(['-o', 'json', 'serve', 'reset-admin-key', '--data-dir', dataDir, '--revoke-existing']);
    expect(revoking.exitCode, revoking.stderr).toBe(0);
    const result = JSON.parse(revoking.stdout) as { key_id: string; api_key: string; revoked: string[] };
    expect(result.api_key.startsWith(`${result.key_id}.`)).toBe(true);
    expect(result.revoked.sort()).toEqual([oldToken, token].map((t) => t.slice(0, t.lastIndexOf('.'))).sort());

    const last = await spawnServer({ dataDir });
    expect(await keysStatus(last.url, result.api_key)).toBe(200);
    expect(await keysStatus(last.url, oldToken)).toBe(403);
    expect(await keysStatus(last.url, token)).toBe(403);
  });

  it('refuses a data dir with no server state (exit 2), creating nothing', async () => {
    const missing = join(work, 'typo');
    const answer = await govctl(['serve', 'reset-admin-key', '--data-dir', missing]);
    expect(answer.exitCode).toBe(2);
    expect(answer.stderr).toMatch(/no server state in/);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('serve connection-limit flags', () => {
  it('refuses limits that cannot work (exit 2) before opening any state', async () => {
    const dataDir = join(work, 'flags');
    const headers = await govctl(['serve', '--data-dir', dataDir, '--port', '0', '--request-timeout', '5s', '--headers-timeout', '10s']);
    expect(headers.exitCode).toBe(2);
    expect(headers.stderr).toMatch(/--headers-timeout .* must not exceed --request-timeout/);
    for (const args of [['--max-connections', '0'], ['--max-connections', 'many'], ['--request-timeout', '0'], ['--keep-alive-timeout', 'soon']]) {
      const answer = await govctl(['serve', '--data-dir', dataDir, '--port', '0', ...args]);
      expect(answer.exitCode, args.join(' ')).toBe(2);
    }
    expect(existsSync(dataDir)).toBe(false);
  });
});
