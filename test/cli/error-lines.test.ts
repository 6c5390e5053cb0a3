import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl } from '../helpers/cli.js';

/** A hostile server: its error details carry terminal escape sequences and line breaks. */
const DETAIL = 'no \u001b[2J\u001b]0;pwned\u0007 here\r\ngovctl: all good \u009b31m';

describe('error and warning lines show server text, never let the terminal interpret it', () => {
  let hostile: Server;
  let url: string;

  beforeAll(async () => {
    hostile = createServer((req, res) => {
      const health = req.url === '/health';
      res.writeHead(health ? 200 : 500, { 'content-type': 'application/json' });
      res.end(health ? JSON.stringify({ status: 'ok', version: '1', uptime_s: 1 }) : JSON.stringify({ detail: DETAIL }));
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => hostile.close(() => r())));

  it("shows a server's error detail with its control characters escaped, on one line", async () => {
    const result = await govctl(['policies', 'list', '--url', url, '--timeout', '2s'], { GOVCTL_ADMIN_KEY: 'k' });
    expect(result.exitCode).not.toBe(0);
    // No raw C0/C1 control character (ESC, BEL, CSI, CR) reaches the terminal.
    // eslint-disable-next-line no-control-regex
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(result.stderr).toContain('\\x1b[2J');
    const errorLine = result.stderr.split('\n').find((line) => line.startsWith('govctl: error:'));
    expect(errorLine).toContain('\\x1b]0;pwned\\x07 here\\x0d');
    expect(errorLine).toContain('govctl: all good \\x9b31m');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('govctl:'))).toHaveLength(1);
  });

  it('escapes text echoed back in an error line (an unknown context name)', async () => {
    const result = await govctl(['health', '--context', 'x\u001b]0;t\u0007'], { GOVCTL_CONFIG: '/nonexistent/govctl.json' });
    expect(result.exitCode).toBe(5);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toContain('no context named "x\\x1b]0;t\\x07"');
  });

  it('escapes a mistyped argument echoed back by the usage error', async () => {
    const result = await govctl(['he\u001b[31mlth']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toContain('\\x1b[31m');
  });

  it("puts commander's parse errors in the one error style: an error line, a hint line, exit 2", async () => {
    const result = await govctl(['keys', 'create', '--name', 'x', '--bogus\u001b[2J\nfake']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('\u001b');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toEqual(["govctl: error: unknown option '--bogus\\x1b[2J\\nfake'", '  hint: see govctl keys create --help']);
  });

  it('ends a mistyped subcommand with its suggestion in the hint, no stack', async () => {
    const result = await govctl(['policies', 'lst']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("govctl: error: unknown command 'lst'\n  hint: did you mean list? see govctl policies --help");
  });
});
