import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newApiToken } from '../../src/core/api-token.js';
import { buildServer } from '../../src/server/app.js';
import { DataDirInUseError } from '../../src/server/store/data-dir-lock.js';
import { startManagedServer } from '../../src/target/managed-server.js';
import { govctl } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';

/** Two servers on one data dir would each trust caches that hold only for the one writer. */
describe('one server per data dir', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'govctl-lock-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a second server in the same process until the first is closed', async () => {
    const first = await startTestServer({ dataDir });
    try {
      await expect(buildServer({ dataDir, bootstrapAdminToken: newApiToken().token, sync: 'normal' })).rejects.toThrow(DataDirInUseError);
      // The refused start left the first one as it was.
      const health = await fetch(`${first.url}/health`);
      expect(health.status).toBe(200);
    } finally {
      await first.close();
    }
    const again = await startTestServer({ dataDir, bootstrapAdminToken: first.adminToken });
    await again.close();
  });

  it('govctl serve refuses a data dir another server process holds; after that one is killed (SIGKILL) it starts', async () => {
    const running = await startManagedServer({ dataDir });
    try {
      const refused = await govctl(['serve', '--data-dir', dataDir, '--port', '0']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`the data dir ${dataDir} is in use by a running server`);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      // SIGKILL leaves no stale lock: the system dropped it with the process.
      running.kill('SIGKILL');
      await running.exited;
      const restarted = await running.restart();
      expect(restarted).toBeDefined();
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
    } finally {
      await running.stop('SIGTERM', 5_000);
      await running.cleanup();
    }
  });
});
