import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { GOVCTL_BIN, startEmbeddedServer } from '../../src/target/embedded.js';
import { resolveTarget } from '../../src/target/resolve.js';
import { call } from '../helpers/http.js';

describe('embedded target', () => {
  it('starts a healthy server with a working admin key, and stop removes it and its data', async () => {
    const server = await startEmbeddedServer({ env: { PATH: process.env['PATH'] ?? '' } });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await call(server.url, 'GET', '/health')).status).toBe(200);
      expect((await call(server.url, 'GET', '/api/admin/policies', { token: server.adminKey })).status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dataDir)).toBe(false);
    await expect(call(server.url, 'GET', '/health')).rejects.toThrow();
  });

  it('a server started with --exit-with-stdin stops cleanly when its parent goes away', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'govctl-stdin-'));
    const args = ['serve', '--port', '0', '--data-dir', dataDir, '--exit-with-stdin', '-o', 'json', '--log-level', 'silent'];
    const child = execa(process.execPath, [GOVCTL_BIN, ...args], { stdin: 'pipe', reject: false });
    const firstLine = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    expect(JSON.parse(firstLine)).toHaveProperty('url');
    child.stdin!.end();
    const result = await child;
    expect(result.exitCode).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resolveTarget with no server configured hands out the managed process, for sampling', async () => {
    const target = await resolveTarget({ sources: { url: 'none', adminKey: 'none' } }, { env: { PATH: process.env['PATH'] ?? '' } });
    try {
      expect(target.kind).toBe('embedded');
      expect(target.server?.url).toBe(target.url);
      expect(target.server?.running).toBe(true);
      if (process.platform === 'linux') expect(target.server?.sample()?.rssBytes).toBeGreaterThan(0);
    } finally {
      await target.release();
    }
    expect(target.server?.running).toBe(false);
    expect(existsSync(target.server!.dataDir!)).toBe(false);
  });
});
