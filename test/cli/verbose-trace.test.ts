import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { traceableUrl } from '../../src/client/http.js';
import { runInProcess } from '../helpers/run-in-process.js';
import { startTestServer } from '../helpers/server.js';

/** One trace line: method, URL, status (or why none came), time in ms. */
const TRACE = /^http: (GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) -> (\d{3}|failed: .+) \(\d+\.\d ms\)$/;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

function traceLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('http: '));
}

/** A plain server that answers every request with `status` (and Retry-After: 1), counting them. */
async function alwaysAnswering(status: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end('{"detail":"busy"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

describe('--verbose', { timeout: 60_000 }, () => {
  it('traces each HTTP request on stderr: method, URL, status, ms; never the key, headers or bodies', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const port = new URL(server.url).port;
    // Credentials in the URL are dropped; they must not show up in the trace either.
    const result = await runInProcess(['keys', 'create', '--name', 'traced', '--url', `http://user:url-pw@127.0.0.1:${port}`, '--verbose', '-o', 'json'], {
      env: { GOVCTL_ADMIN_KEY: server.adminToken },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = traceLines(result.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(TRACE);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^http: POST ${server.url}/api/admin/keys -> 201 \\(`)));
    const created = JSON.parse(result.stdout) as { api_key?: string; token?: string };
    const secrets = [server.adminToken.split('.')[1]!, 'url-pw', ...[created.api_key, created.token].filter((t): t is string => !!t).map((t) => t.split('.')[1]!)];
    for (const secret of secrets) expect(result.stderr).not.toContain(secret);
    expect(result.stderr).not.toMatch(/authorization|bearer|"name"/i);
  });

  it('is silent without --verbose', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const result = await runInProcess(['keys', 'list', '--url', server.url], { env: { GOVCTL_ADMIN_KEY: server.adminToken } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(traceLines(result.stderr)).toEqual([]);
  });

  it('shows every attempt of a retried request, and a request that got no answer', async () => {
    const busy = await alwaysAnswering(503);
    const result = await runInProcess(['keys', 'list', '--url', busy.url, '--verbose', '--timeout', '5s'], { env: { GOVCTL_ADMIN_KEY: 'k' } });
    expect(result.exitCode).toBe(1);
    expect(traceLines(result.stderr)).toEqual(Array.from({ length: busy.requests() }, () => expect.stringMatching(new RegExp(`^http: GET ${busy.url}/api/admin/keys -> 503 \\(`))));

    const refused = await runInProcess(['keys', 'list', '--url', 'http://127.0.0.1:1', '--verbose'], { env: { GOVCTL_ADMIN_KEY: 'k' } });
    expect(refused.exitCode).toBe(3);
    expect(traceLines(refused.stderr)[0]).toMatch(/^http: GET http:\/\/127\.0\.0\.1:1\/api\/admin\/keys -> failed: cannot reach 127\.0\.0\.1:1: connection refused/);
  });

  it('masks query values that look like secrets', () => {
    expect(traceableUrl(new URL('http://u:p@h:1/api/admin/logs?key_id=k1&api_key=s3cret&token=t0k&limit=5'))).toBe(
      'http://h:1/api/admin/logs?key_id=k1&api_key=***&token=***&limit=5',
    );
  });
});

describe('--timeout bounds the whole command, retries included', { timeout: 60_000 }, () => {
  it('a server answering 503 with Retry-After forever: the command gives up when the next wait would pass the timeout', async () => {
    const busy = await alwaysAnswering(503);
    // Retry-After: 1 with a 2 s budget: the first wait fits, the second would not. Without the
    // bound the default policy would try three times.
    const result = await runInProcess(['keys', 'list', '--url', busy.url, '--timeout', '2s'], { env: { GOVCTL_ADMIN_KEY: 'k' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('answered HTTP 503');
    expect(busy.requests()).toBe(2);
  });
});
