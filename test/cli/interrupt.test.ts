import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOVCTL } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Resolves when `text` has appeared on the child's stderr. */
function stderrSays(child: ReturnType<typeof execa>, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
  });
}

describe('Ctrl-C', () => {
  let hanging: Server;
  let hangingUrl: string;
  let server: TestServer;

  beforeAll(async () => {
    // Accepts requests and never answers them.
    hanging = createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    server = await startTestServer();
  });
  afterAll(async () => {
    hanging.closeAllConnections();
    await new Promise<void>((r) => hanging.close(() => r()));
    await server.close();
  });

  it('interrupts a waiting request with exit 130 and one line, no stack trace', async () => {
    const child = execa(process.execPath, [GOVCTL, 'health', '--url', hangingUrl, '--timeout', '60s'], { reject: false });
    const seen = new Promise<void>((resolve) => {
      hanging.once('request', () => resolve());
    });
    await seen;
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr).trim()).toBe('govctl: interrupted');
  });

  it('stops logs --follow cleanly (exit 0)', async () => {
    const child = execa(process.execPath, [GOVCTL, 'logs', '--follow', '--interval', '200ms', '--url', server.url], {
      reject: false,
      env: { GOVCTL_ADMIN_KEY: server.adminToken },
    });
    await stderrSays(child, 'following the usage log');
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(0);
  });
});
