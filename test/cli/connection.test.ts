import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A second server that answers /health and records every Authorization header it is sent. */
async function startRecorder(): Promise<{ url: string; authorizations: string[]; close(): Promise<void> }> {
  const authorizations: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== undefined) authorizations.push(req.headers.authorization);
    const health = req.url === '/health';
    res.writeHead(health ? 200 : 404, { 'content-type': 'application/json' });
    res.end(health ? '{"status":"ok","version":"1.0.0","uptime_s":1}' : '{"detail":"Not Found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("a context's admin key is bound to its server", () => {
  let prod: TestServer;
  let other: Awaited<ReturnType<typeof startRecorder>>;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    [prod, other] = await Promise.all([startTestServer(), startRecorder()]);
    dir = await mkdtemp(join(tmpdir(), 'govctl-bound-'));
    env = { GOVCTL_CONFIG: join(dir, 'config.json'), PROD_KEY: prod.adminToken, HOME: dir };
    const set = await govctl(['config', 'set-context', 'prod', '--url', prod.url, '--admin-key-env', 'PROD_KEY'], env);
    expect(set.exitCode, set.stderr).toBe(0);
  });
  afterAll(async () => {
    await Promise.all([prod.close(), other.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('never sends it to another --url or GOVCTL_URL, and says why in one line', async () => {
    const byFlag = await govctl(['health', '--url', other.url, '-o', 'json'], env);
    expect(byFlag.exitCode, byFlag.stderr).toBe(0);
    expect(JSON.parse(byFlag.stdout)).toMatchObject({ admin_key: 'not configured' });
    expect(byFlag.stderr).toContain(`not sending context "prod"'s admin key to ${other.url} (the context is for ${prod.url})`);
    expect(byFlag.stderr).toContain('pass GOVCTL_ADMIN_KEY');
    expect(byFlag.stderr.split('\n').filter((line) => line.includes('admin key'))).toHaveLength(1);

    const byEnv = await govctl(['health', '-o', 'json'], { ...env, GOVCTL_URL: other.url });
    expect(byEnv.exitCode, byEnv.stderr).toBe(0);
    expect(byEnv.stderr).toContain('unset GOVCTL_URL');

    const named = await govctl(['health', '--context', 'prod', '--url', other.url], env);
    expect(named.exitCode).toBe(0);

    // An admin command has no key to send there: a usage error, and still nothing sent.
    const admin = await govctl(['keys', 'list', '--url', other.url], env);
    expect(admin.exitCode).toBe(2);
    expect(admin.stderr).toContain('needs an admin key');

    expect(other.authorizations).toEqual([]);
    for (const result of [byFlag, byEnv, named, admin]) expect(result.stdout + result.stderr).not.toContain(prod.adminToken);
  });

  it("sends it to the context's own server however its URL is spelled", async () => {
    const spelled = prod.url.replace('http://', 'HTTP://') + '/';
    const result = await govctl(['health', '--url', spelled, '-o', 'json'], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ admin_key: 'ok' });
    expect(result.stderr).not.toContain('not sending');
  });

  it('sends a key given explicitly (GOVCTL_ADMIN_KEY) to the URL given with it', async () => {
    const before = other.authorizations.length;
    const result = await govctl(['health', '--url', other.url], { ...env, GOVCTL_ADMIN_KEY: 'explicit-key' });
    // The recorder has no admin API: the check is refused as unsupported, but the key went there as asked.
    expect(result.stderr).not.toContain('not sending');
    expect(other.authorizations.slice(before)).toEqual(['Bearer explicit-key']);
  });
});

describe('admin commands need a configured server', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-noserver-'));
    env = { HOME: dir, GOVCTL_CONFIG: join(dir, 'config.json') };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses keys, policies, logs and backups with no --url, GOVCTL_URL or context (exit 2)', async () => {
    for (const args of [['keys', 'create', '--name', 'billing'], ['keys', 'list'], ['policies', 'list'], ['logs'], ['backups', 'list']]) {
      const result = await govctl(args, env);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('no server configured: pass --url or create a context (govctl config set-context');
      expect(result.stderr).toContain('--embedded');
      expect(result.stderr).not.toContain('starting the embedded');
    }
  });

  it('counts empty GOVCTL_CONTEXT, GOVCTL_URL and GOVCTL_ADMIN_KEY as unset', async () => {
    const empty = { ...env, GOVCTL_CONTEXT: '', GOVCTL_URL: '', GOVCTL_ADMIN_KEY: '' };
    const admin = await govctl(['keys', 'list'], empty);
    expect(admin.exitCode).toBe(2);
    expect(admin.stderr).toContain('no server configured');
    const health = await govctl(['health', '-o', 'json'], empty);
    expect(health.exitCode, health.stderr).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ target: 'embedded', admin_key: 'ok' });
  });

  it('uses a temporary server when asked with --embedded, and says it is temporary', async () => {
    const result = await govctl(['keys', 'create', '--name', 'billing', '--embedded', '-o', 'json'], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'billing' });
    expect(result.stderr).toContain('discarded when it exits');
    const both = await govctl(['keys', 'list', '--embedded', '--url', 'http://127.0.0.1:9'], env);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('cannot be combined with --url');
  });
});

describe('the client trusts no odd input', () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'govctl-input-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses --timeout 0 (exit 2)', async () => {
    for (const timeout of ['0', '0ms', '0s']) {
      const result = await govctl(['health', '--url', server.url, '--timeout', timeout]);
      expect(result.exitCode, timeout).toBe(2);
      expect(result.stderr).toContain(`invalid --timeout "${timeout}"`);
    }
  });

  it('refuses an admin key with control characters from flag, env, context or key file, without printing it', async () => {
    const key = `${server.adminToken}\u001b[2J`;
    const keyFile = join(dir, 'admin.key');
    await writeFile(keyFile, `${key}\n`);
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        version: 1,
        contexts: {
          byenv: { url: server.url, admin_key_env: 'CTX_KEY' },
          byfile: { url: server.url, admin_key_file: keyFile },
          stored: { url: server.url, admin_key: key },
        },
      }),
    );
    const cases: Array<{ args: string[]; env: Record<string, string>; from: string }> = [
      { args: ['--admin-key', key], env: {}, from: '--admin-key' },
      { args: [], env: { GOVCTL_ADMIN_KEY: key }, from: 'GOVCTL_ADMIN_KEY' },
      { args: ['--context', 'byenv'], env: { CTX_KEY: key }, from: '$CTX_KEY' },
      { args: ['--context', 'byfile'], env: {}, from: keyFile },
      { args: ['--context', 'stored'], env: {}, from: 'context "stored"' },
    ];
    for (const c of cases) {
      const urlArgs = c.args.includes('--context') ? [] : ['--url', server.url];
      const result = await govctl(['keys', 'list', ...urlArgs, ...c.args], { GOVCTL_CONFIG: config, ...c.env });
      expect(result.exitCode, c.from).toBe(2);
      expect(result.stderr).toContain(`the admin key from ${c.from}`);
      expect(result.stderr).toContain('contains control characters');
      expect(result.stdout + result.stderr).not.toContain(server.adminToken.split('.')[1]);
      expect(result.stderr).not.toContain('\u001b');
    }
  });

  it('never prints credentials embedded in --url', async () => {
    const secret = 's3cret-pw';
    const withCreds = server.url.replace('http://', `http://bob:${secret}@`);
    const healthy = await govctl(['health', '--url', withCreds, '-o', 'json']);
    expect(healthy.exitCode, healthy.stderr).toBe(0);
    expect(healthy.stderr).toContain('carries credentials');
    expect(JSON.parse(healthy.stdout).url).toBe(server.url);

    const closed = await govctl(['health', '--url', `http://bob:${secret}@127.0.0.1:9`]);
    expect(closed.exitCode).toBe(3);
    const invalid = await govctl(['health', '--url', `http://bob:${secret}@127.0.0.1:99999`, '--verbose']);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('http://***@127.0.0.1:99999');
    const saved = await govctl(['config', 'set-context', 'x', '--url', withCreds], { GOVCTL_CONFIG: join(dir, 'creds.json') });
    expect(saved.exitCode).toBe(2);
    for (const result of [healthy, closed, invalid, saved]) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('finds no context on Object.prototype: constructor, __proto__, toString are not found (exit 5)', async () => {
    const config = join(dir, 'proto.json');
    await writeFile(config, JSON.stringify({ version: 1, current_context: 'real', contexts: { real: { url: server.url } } }));
    for (const name of ['constructor', '__proto__', 'toString']) {
      const health = await govctl(['--context', name, 'health'], { GOVCTL_CONFIG: config });
      expect(health.exitCode, name).toBe(5);
      expect(health.stderr).toContain(`no context named "${name}"`);
      const use = await govctl(['config', 'use-context', name], { GOVCTL_CONFIG: config });
      expect(use.exitCode, name).toBe(5);
    }
  });
});
