import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, keyIdOf } from '../helpers/contract.js';
import { GOVCTL, govctl, type CliResult } from '../helpers/cli.js';
import { createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** `govctl logs`: the decision-id column, --key and --reason, and --follow's single header (issue 12). */
describe('logs: decision ids, --key, --reason and --follow', { timeout: 120_000 }, () => {
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;
  let alice: string;
  let bob: string;

  const run = async (args: string[]): Promise<CliResult> => {
    const result = await govctl(args, env);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    return result;
  };
  const json = async (args: string[]): Promise<any> => {
    const result = await run([...args, '-o', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  /** A decision by `token`; its decision id. */
  const decide = async (token: string, personal = false): Promise<string> => {
    const answer = await check(server.url, token, { contains_personal_data: personal }, 'follow-model', 'chat');
    expect(answer.status).toBe(200);
    return answer.body.decision_id as string;
  };

  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    work = await mkdtemp(join(tmpdir(), 'govctl-logs-'));
    env = { GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken, HOME: work };
    alice = await createKey(server.url, server.adminToken, 'alice');
    bob = await createKey(server.url, server.adminToken, 'bob');
  });
  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('filters by --key (id or name) and --reason; -o json carries the context and URL', async () => {
    const personal = await decide(alice, true);
    const plain = await decide(alice);
    const bobs = await decide(bob);

    const byName = await json(['logs', '--key', 'alice']);
    expect(byName).toMatchObject({ context: null, url: server.url, total: 2 });
    expect(byName.logs.map((l: { id: string }) => l.id)).toEqual([plain, personal]);
    const byId = await json(['logs', '--key', keyIdOf(bob)]);
    expect(byId.logs.map((l: { id: string }) => l.id)).toEqual([bobs]);
    const reason = await json(['logs', '--key', 'alice', '--reason', 'contains_personal_data']);
    expect(reason.logs.map((l: { id: string }) => l.id)).toEqual([personal]);
    expect((await json(['logs', '--reason', 'ok', '--key', 'bob'])).total).toBe(1);

    const table = await run(['logs', '--key', 'alice']);
    expect(table.stdout).toMatch(/^TIME\s+ID\s+DECISION\s+MODEL/m);
    expect(table.stdout).toMatch(new RegExp(`^\\S+ \\S+\\s+${personal}\\s`, 'm'));

    const unknown = await run(['logs', '--key', 'nobody']);
    expect(unknown.exitCode).toBe(5);
    expect(unknown.stderr).toContain('no API key with id or name "nobody"');
    const bad = await run(['logs', '--reason', 'Not A Reason']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('invalid --reason');
  });

  it('--follow prints the header once, the decision ids, only the --key asked for, and ends with 130 on Ctrl-C', async () => {
    const first = await decide(alice);
    let child: ResultPromise | undefined;
    try {
      child = execa(process.execPath, [GOVCTL, 'logs', '--follow', '--key', 'alice', '--limit', '1', '--interval', '100ms'], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      });
      let stdout = '';
      const waiters: Array<{ text: string; resolve: () => void }> = [];
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        for (const w of waiters.filter((w) => stdout.includes(w.text))) w.resolve();
      });
      const printed = (text: string) =>
        new Promise<void>((resolve, reject) => {
          if (stdout.includes(text)) return resolve();
          waiters.push({ text, resolve });
          child!.once('exit', () => reject(new Error(`govctl exited before printing ${text}: ${stdout}`)));
        });

      await printed(first);
      // Two more batches, with another key's decisions between that must not show.
      const hidden = await decide(bob);
      const second = await decide(alice);
      await printed(second);
      const third = await decide(alice, true);
      await decide(bob);
      await printed(third);

      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(String(result.stderr)).toContain('govctl: interrupted');
      expect(stdout.match(/^TIME\s+ID\s+DECISION/gm)).toHaveLength(1);
      for (const id of [first, second, third]) expect(stdout).toMatch(new RegExp(`^\\S+ \\S+\\s+${id}\\s+(allowed|blocked)\\s`, 'm'));
      expect(stdout).not.toContain(hidden);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('has examples in its help, --key and --reason among them', async () => {
    const help = await run(['logs', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/govctl logs --key \S+ --reason \S+/);
    expect(help.stdout).toContain('govctl logs -f');
  });
});
