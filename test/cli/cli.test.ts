import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { processIO } from '../../src/cli/io.js';
import { govctl } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Every command path, e.g. ["config", "set-context"], read from the real program. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

describe('govctl cli', () => {
  let server: TestServer;
  let home: string;

  beforeAll(async () => {
    server = await startTestServer();
    home = await mkdtemp(join(tmpdir(), 'govctl-cli-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('prints help for every command', async () => {
    const { program } = buildProgram(processIO(), new AbortController().signal);
    const paths = commandPaths(program);
    expect(paths.length).toBeGreaterThanOrEqual(7);
    for (const path of paths) {
      const result = await govctl([...path, '--help']);
      expect(result.exitCode, path.join(' ')).toBe(0);
      expect(result.stdout).toContain(`USAGE\n  govctl ${path.join(' ')}`);
    }
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await govctl(['--version']);
    expect(result).toMatchObject({ exitCode: 0, stdout: pkg.version });
  });

  it('suggests the command meant by a typo, with exit 2', async () => {
    const result = await govctl(['helth']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown command 'helth'");
    expect(result.stderr).toContain('hint: did you mean health? see govctl --help');
  });

  it('rejects an invalid flag value with exit 2', async () => {
    const result = await govctl(['health', '--timeout', 'soon', '--url', server.url]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('invalid --timeout "soon"');
  });

  it('names the host and cause when the target is unreachable (exit 3), stack only with --verbose', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const result = await govctl(['health', '--url', `http://127.0.0.1:${port}`]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`cannot reach 127.0.0.1:${port}: connection refused`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(STACK_FRAME);

    const verbose = await govctl(['health', '--verbose', '--url', `http://127.0.0.1:${port}`]);
    expect(verbose.exitCode).toBe(3);
    expect(verbose.stderr).toMatch(STACK_FRAME);
  });

  it('serve on a busy port fails clearly and still shows the admin key it stored', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const dataDir = join(home, 'busy-data');
    const result = await govctl(['serve', '--port', String(port), '--data-dir', dataDir, '--log-level', 'silent']);
    await new Promise<void>((r) => busy.close(() => r()));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(result.stderr).toMatch(/[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}/);
  });

  it('says a DNS failure is one, with exit 3', async () => {
    const result = await govctl(['health', '--url', 'http://no-such-host.invalid:8080']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('cannot reach no-such-host.invalid:8080: DNS lookup failed');
  });

  it('refuses a wrong admin key with exit 4 and never echoes it', async () => {
    const wrongKey = `${server.adminToken.split('.')[0]}.${'A'.repeat(43)}`;
    const result = await govctl(['health', '--url', server.url], { GOVCTL_ADMIN_KEY: wrongKey });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('refused the credentials');
    expect(result.stderr).toContain('Invalid API key');
    expect(result.stdout + result.stderr).not.toContain(wrongKey);
  });

  it('reports a healthy server, its version and a working admin key', async () => {
    const result = await govctl(['health', '--url', server.url, '-o', 'json'], { GOVCTL_ADMIN_KEY: server.adminToken });
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ status: 'ok', healthy: true, http_status: 200, target: 'remote', admin_key: 'ok' });
    expect(report['latency_ms']).toBeGreaterThan(0);
    expect(result.stdout + result.stderr).not.toContain(server.adminToken);
  });

  it('warns that --admin-key lands in shell history', async () => {
    const result = await govctl(['health', '--url', server.url, '--admin-key', server.adminToken, '-q']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('shell history');
    expect(result.stderr).not.toContain(server.adminToken);
  });

  it('checks the embedded server when no target is configured', async () => {
    const result = await govctl(['health', '--detailed', '-o', 'json'], { HOME: home });
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    expect(report).toMatchObject({ target: 'embedded', healthy: true, admin_key: 'ok' });
    expect(report['components']).toMatchObject({ database: 'ok', rate_limiter: 'memory' });
    expect(result.stderr).toContain('starting the embedded reference server');
  });

  it('uses colour only when allowed: FORCE_COLOR on, NO_COLOR and --no-color off', async () => {
    const env = { FORCE_COLOR: '1', GOVCTL_ADMIN_KEY: server.adminToken };
    const coloured = await govctl(['health', '--url', server.url], env);
    expect(coloured.stdout).toContain('\u001b[');
    const noColor = await govctl(['health', '--url', server.url], { ...env, NO_COLOR: '1' });
    expect(noColor.stdout).not.toContain('\u001b[');
    const flag = await govctl(['health', '--url', server.url, '--no-color'], env);
    expect(flag.stdout).not.toContain('\u001b[');
    const piped = await govctl(['health', '--url', server.url], { GOVCTL_ADMIN_KEY: server.adminToken });
    expect(piped.stdout).not.toContain('\u001b[');
  });

  it('writes the config file with mode 0600 and resolves the current context', async () => {
    const config = join(home, 'cfg', 'config.json');
    const env = { GOVCTL_CONFIG: config, LOCAL_ADMIN: server.adminToken };
    const set = await govctl(['config', 'set-context', 'local', '--url', server.url, '--admin-key-env', 'LOCAL_ADMIN'], env);
    expect(set.exitCode).toBe(0);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect(await readFile(config, 'utf8')).not.toContain(server.adminToken);

    const health = await govctl(['health', '-o', 'json'], env);
    expect(health.exitCode).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ target: 'remote', admin_key: 'ok' });

    const list = await govctl(['config', 'get-contexts', '-o', 'json'], env);
    expect(JSON.parse(list.stdout)).toEqual({
      current_context: 'local',
      contexts: [{ name: 'local', current: true, url: server.url, admin_key: 'env LOCAL_ADMIN' }],
    });

    const missing = await govctl(['config', 'use-context', 'prod'], env);
    expect(missing.exitCode).toBe(5);
    expect(missing.stderr).toContain('no context named "prod"');
  });

  it('names the file and field of an invalid config file (exit 2)', async () => {
    const config = join(home, 'bad.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(config, JSON.stringify({ version: 1, contexts: { prod: { url: 7 } } }));
    const result = await govctl(['health'], { GOVCTL_CONFIG: config });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`config file ${config} is invalid: $.contexts.prod.url: must be string`);
  });
});

describe('govctl health against servers in the field', () => {
  let fixture: Server;
  let url: string;
  let answer: { status: number; body: string } = { status: 200, body: '{"status":"healthy"}' };

  beforeAll(async () => {
    // A stand-in for servers in the field: it answers /health in their documented shapes.
    fixture = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? answer.status : 404, { 'content-type': 'application/json' });
      res.end(req.url === '/health' ? answer.body : '{"detail":"Not Found"}');
    });
    await new Promise<void>((r) => fixture.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(fixture.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => fixture.close(() => r())));

  it('accepts {"status":"healthy"} with no other fields', async () => {
    answer = { status: 200, body: '{"status":"healthy"}' };
    const result = await govctl(['health', '--url', url, '-o', 'json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'healthy', healthy: true, admin_key: 'not configured' });
  });

  it('reports a degraded server with exit 1', async () => {
    answer = { status: 503, body: '{"status":"degraded"}' };
    const result = await govctl(['health', '--url', url]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('degraded');
  });

  it('says which operation a server lacks, with no stack trace', async () => {
    const result = await govctl(['health', '--detailed', '--url', url]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('does not support the detailed health check (GET /health/detailed answered 404)');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});
