import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliApp, printable } from '../../src/cli/app.js';
import type { CliIO } from '../../src/cli/io.js';

function app(argv: string[] = [], signal = new AbortController().signal): { app: CliApp; stderr: () => string } {
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {}, cwd: '/', stdoutIsTTY: false, stdinIsTTY: false };
  const program = new Command('govctl').option('--verbose').option('-q, --quiet').exitOverride();
  program.parse(argv, { from: 'user' });
  return { app: new CliApp(io, signal, program), stderr: () => err };
}

describe('the cli frame', () => {
  it('shows warnings and notes with control characters escaped and URL credentials redacted', () => {
    const { app: a, stderr } = app();
    a.warn('server said \u001b]0;pwned\u0007 at http://bob:pw@host:1/x');
    a.info('retrying: \u009b2J');
    expect(stderr()).toBe('warning: server said \\x1b]0;pwned\\x07 at http://***@host:1/x\nretrying: \\x9b2J\n');
    expect(printable('a\nb\u001b')).toBe('a\nb\\x1b');
  });

  it('bounds cleanups: one that never ends does not hold the exit, and the others still run', async () => {
    const { app: a, stderr } = app();
    const ran: string[] = [];
    a.onCleanup(async () => void ran.push('first'));
    a.onCleanup(() => new Promise<void>(() => undefined));
    a.onCleanup(async () => {
      ran.push('failing');
      throw new Error('close failed');
    });
    expect(await a.runCleanups(50)).toBe(false);
    expect(ran).toEqual(['failing', 'first']);
    expect(stderr()).toContain('cleanup failed: close failed');
    expect(stderr()).toContain('cleanup did not finish within 50 ms');
  });

  it('keeps quiet about cleanups after Ctrl-C (the one line is "interrupted")', async () => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    const { app: a, stderr } = app([], controller.signal);
    a.onCleanup(() => new Promise<void>(() => undefined));
    expect(await a.runCleanups(10)).toBe(false);
    expect(stderr()).toBe('');
  });
});
