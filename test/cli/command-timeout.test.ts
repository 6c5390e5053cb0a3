import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { govctl } from '../helpers/cli.js';

// --timeout bounds a one-shot command as a whole: `keys revoke NAME` lists the keys, then
// revokes one; each answer alone fits in the timeout, the two together do not.
const KEY = { id: 'k1', key_id: '11111111-1111-4111-8111-111111111111', name: 'ci', role: 'user', active: true, created_at: '2026-01-01T00:00:00Z' };
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function slowServer(delayMs: number): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? JSON.stringify([KEY]) : JSON.stringify({ status: 'deleted', key_id: KEY.key_id }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as { port: number }).port}`, requests };
}

describe('--timeout bounds the whole command', () => {
  it('a command whose requests together outlast --timeout ends with exit 3, however fast each one is', async () => {
    const { url, requests } = await slowServer(1200);
    const result = await govctl(['keys', 'revoke', 'ci', '--yes', '--timeout', '2s'], { GOVCTL_URL: url, GOVCTL_ADMIN_KEY: `${KEY.key_id}x.secret` });
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/timed out/);
    expect(requests[0]).toMatch(/^GET \/api\/admin\/keys/);
  });

  it('the same command within its --timeout succeeds', async () => {
    const { url } = await slowServer(50);
    const result = await govctl(['keys', 'revoke', 'ci', '--yes', '--timeout', '5s'], { GOVCTL_URL: url, GOVCTL_ADMIN_KEY: `${KEY.key_id}x.secret` });
    expect(result.exitCode, result.stderr).toBe(0);
  });
});
