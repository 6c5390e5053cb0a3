import { PassThrough } from 'node:stream';
import type { CliIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';
import type { CliResult } from './cli.js';

export interface InProcessOptions {
  env?: Record<string, string>;
  /** A terminal this wide on stdout (stdout is then a TTY); absent: a pipe. */
  columns?: number;
  /** stderr is a terminal (live progress, pretty logs). */
  stderrIsTTY?: boolean;
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs govctl from the sources in this process (no build needed) with its own streams: for what
 * a child process cannot have, a terminal of a chosen width; `govctl()` in cli.ts runs the built
 * bin as a user would. NO_COLOR keeps the text plain unless the caller's env says otherwise.
 */
export async function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const io: CliIO = {
    stdout,
    stderr,
    stdin: new PassThrough().end(),
    // No HOME: a developer's own contexts file must not leak into a test.
    env: { NO_COLOR: '1', HOME: '/nonexistent', ...options.env },
    cwd: process.cwd(),
    stdoutIsTTY: options.columns !== undefined,
    stdinIsTTY: false,
    ...(options.stderrIsTTY !== undefined ? { stderrIsTTY: options.stderrIsTTY } : {}),
    ...(options.columns !== undefined ? { columns: options.columns } : {}),
  };
  const exitCode = await run(['node', 'govctl', ...args], io);
  return { exitCode, stdout: out(), stderr: err() };
}
