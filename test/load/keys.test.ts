import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { AuthError, ExitCode, UsageError } from '../../src/core/errors.js';
import { keyIdOf, keyIdsOf, keysFromInput, provisionKeys } from '../../src/load/keys.js';
import { startForgetfulServer, type ForgetfulServer } from '../helpers/forgetful-server.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function forgetful(options: Parameters<typeof startForgetfulServer>[0] = {}): Promise<ForgetfulServer> {
  const s = await startForgetfulServer(options);
  cleanups.push(() => s.close());
  return s;
}
function clientFor(url: string, adminKey?: string, timeoutMs = 5_000): GovernanceClient {
  const client = new GovernanceClient({ baseUrl: url, timeoutMs, ...(adminKey !== undefined ? { adminKey } : {}) });
  cleanups.push(() => client.close());
  return client;
}
const evaluate = (s: TestServer, token: string) => call(s.url, 'POST', '/api/evaluate', { token });

describe('provisionKeys against the reference server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.close());

  it('creates named user keys that work, and revokes them all; a second revoke finds nothing left', async () => {
    const keys = await provisionKeys(clientFor(s.url, s.adminToken), { count: 6, runId: 'r1' });
    expect(keys.tokens).toHaveLength(6);
    expect(keys.keyIds).toEqual(keys.tokens.map((t) => keyIdOf(t)));
    for (const token of keys.tokens) expect((await evaluate(s, token)).status).toBe(200);
    const listed = (await call(s.url, 'GET', '/api/admin/keys', { token: s.adminToken })).body as Array<{ key_id: string; name: string; role: string }>;
    const ours = listed.filter((k) => keys.keyIds.includes(k.key_id));
    expect(ours.map((k) => k.name).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `govctl-load-r1-${i}`));
    expect(ours.every((k) => k.role === 'user')).toBe(true);

    expect(await keys.revoke()).toEqual({ revoked: 6, failed: 0 });
    // An inactive key is refused (403 in the contract).
    for (const token of keys.tokens) expect((await evaluate(s, token)).status).toBe(403);
    expect(await keys.revoke()).toEqual({ revoked: 6, failed: 0 });
  });

  it('a wrong admin key is an AuthError (exit 4) that points to GOVCTL_ADMIN_KEY and --api-key, without the key', async () => {
    const wrong = 'ffffffff-ffff-4fff-bfff-ffffffffffff.wrong-secret-value';
    const err = await provisionKeys(clientFor(s.url, wrong), { count: 3, runId: 'r2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).exitCode).toBe(ExitCode.auth);
    expect((err as AuthError).hint).toMatch(/GOVCTL_ADMIN_KEY/);
    expect((err as AuthError).hint).toMatch(/--api-key/);
    expect(`${(err as Error).message} ${(err as AuthError).hint}`).not.toContain('wrong-secret-value');
  });

  it('no admin key at all is a usage error with the same way out', async () => {
    const err = await provisionKeys(clientFor(s.url), { count: 1, runId: 'r3' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toMatch(/--api-key/);
  });
});

describe('provisionKeys when things go wrong', () => {
  it('revokes the keys already made before rethrowing a failure midway', async () => {
    const s = await forgetful({ failCreateAfter: 3 });
    const err = await provisionKeys(clientFor(s.url, s.adminKey), { count: 8, runId: 'r4', concurrency: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/3 made, 3 of them revoked again/);
    expect(s.activeKeys()).toEqual([]);
  });

  it('an aborted signal stops creating and leaves no key behind', async () => {
    const s = await forgetful();
    const controller = new AbortController();
    controller.abort();
    const err = await provisionKeys(clientFor(s.url, s.adminKey), { count: 4, runId: 'r5', signal: controller.signal }).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.interrupted);
    expect(s.activeKeys()).toEqual([]);
  });

  it('revoke counts a key someone else deleted as revoked', async () => {
    const s = await forgetful();
    const keys = await provisionKeys(clientFor(s.url, s.adminKey), { count: 3, runId: 'r6' });
    s.deleteKey(keys.keyIds[1]!);
    expect(await keys.revoke()).toEqual({ revoked: 3, failed: 0 });
    expect(s.activeKeys()).toEqual([]);
  });

  it('revoke never throws and gives up in bounded time when the server does not answer', async () => {
    const s = await forgetful();
    const keys = await provisionKeys(clientFor(s.url, s.adminKey), { count: 3, runId: 'r7', revokeTimeoutMs: 300 });
    // A listener that accepts and never answers.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const via = clientFor(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, s.adminKey, 1_000);
    expect(await keys.revoke(via)).toEqual({ revoked: 0, failed: 3 });
    expect(s.activeKeys()).toHaveLength(3);
    // A later call retries what is left.
    expect(await keys.revoke()).toEqual({ revoked: 3, failed: 0 });
    expect(s.activeKeys()).toEqual([]);
  });

  it("after Ctrl-C the run's client is useless; revoke(via) another client still cleans up", async () => {
    const s = await forgetful();
    const controller = new AbortController();
    const bound = new GovernanceClient({ baseUrl: s.url, adminKey: s.adminKey, timeoutMs: 5_000, signal: controller.signal });
    cleanups.push(() => bound.close());
    const keys = await provisionKeys(bound, { count: 4, runId: 'r8' });
    controller.abort();
    expect(await keys.revoke()).toEqual({ revoked: 0, failed: 4 });
    expect(await keys.revoke(clientFor(s.url, s.adminKey))).toEqual({ revoked: 4, failed: 0 });
    expect(s.activeKeys()).toEqual([]);
  });
});

describe('keysFromInput', () => {
  it('takes --api-key flags first, else GOVCTL_API_KEYS split on commas and whitespace, without duplicates', () => {
    expect(keysFromInput(['a.1', 'b.2', 'a.1'], 'c.3')).toEqual(['a.1', 'b.2']);
    expect(keysFromInput(undefined, ' c.3, d.4\n e.5,,f.6 ')).toEqual(['c.3', 'd.4', 'e.5', 'f.6']);
    expect(keysFromInput([], 'c.3')).toEqual(['c.3']);
    expect(keysFromInput(undefined, undefined)).toBeUndefined();
    expect(keysFromInput(undefined, ' , ')).toBeUndefined();
  });

  it('refuses control characters and spaces, saying where, never showing the key', () => {
    const cases: Array<[string[] | undefined, string | undefined, RegExp]> = [
      [['good.1', 'bad.sec\u0007ret'], undefined, /--api-key #2/],
      [['bad.secret with-space'], undefined, /--api-key #1/],
      [[''], undefined, /--api-key #1 is empty/],
      [undefined, 'good.1,bad.sec\u001bret', /key #2 of GOVCTL_API_KEYS/],
    ];
    for (const [flags, env, where] of cases) {
      let caught: unknown;
      try {
        keysFromInput(flags, env);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).message).toMatch(where);
      expect((caught as UsageError).message).not.toMatch(/sec|ret/);
    }
  });

  it('gives the key ids (before the last dot) for accounting, or undefined when a token has none', () => {
    expect(keyIdsOf(['k1.s', 'a.b.c'])).toEqual(['k1', 'a.b']);
    expect(keyIdsOf(['k1.s', 'no-dot'])).toBeUndefined();
  });
});
