import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const GOVCTL = fileURLToPath(new URL('../../bin/govctl.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built govctl as a user would, in a child process, with no terminal. */
export async function govctl(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const result = await execa(process.execPath, [GOVCTL, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
