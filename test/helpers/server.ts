import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newApiToken } from '../../src/core/api-token.js';
import { buildServer, type GovernanceServer, type ServerOptions } from '../../src/server/app.js';

export interface TestServer {
  url: string;
  adminToken: string;
  dataDir: string;
  server: GovernanceServer;
  close(): Promise<void>;
}

/** A real reference server in this process, on an ephemeral loopback port, over a temp data dir. */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'govctl-test-')));
  const adminToken = options.bootstrapAdminToken ?? newApiToken().token;
  const server = await buildServer({ ...options, dataDir, bootstrapAdminToken: adminToken, sync: options.sync ?? 'normal' });
  const url = await server.listen('127.0.0.1', 0);
  return {
    url,
    adminToken,
    dataDir,
    server,
    async close() {
      await server.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
