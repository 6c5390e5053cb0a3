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
  // A bootstrap function (the server asks only on a first start) is passed through as is; then
  // adminToken is whatever the caller's function hands out, not this fresh one.
  const given = options.bootstrapAdminToken;
  const adminToken = typeof given === 'string' ? given : newApiToken().token;
  const server = await buildServer({ ...options, dataDir, bootstrapAdminToken: given ?? adminToken, sync: options.sync ?? 'normal' });
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
