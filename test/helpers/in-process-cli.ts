import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import type { CliResult } from './cli.js';

/**
 * Runs govctl from the sources in this process (no build needed), with its own streams and
 * environment and no terminal. For tests of the client's behaviour; `govctl()` in cli.ts runs
 * the built bin as a user would.
 */
export async function runInProcess(args: string[], env: Record<string, string> = {}, tty: Partial<Pick<CliIO, 'stderrIsTTY'>> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stdin = new PassThrough();
  stdin.end();
  const io: CliIO = { stdout: out, stderr: err, stdin, env: { HOME: '/nonexistent', ...env }, cwd: process.cwd(), stdoutIsTTY: false, stdinIsTTY: false, ...tty };
  const exitCode = await run(['node', 'govctl', ...args], io);
  return { exitCode, stdout, stderr };
}
