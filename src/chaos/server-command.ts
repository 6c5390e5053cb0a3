import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { GovctlError, InvalidInputError, OperationFailedError } from '../core/errors.js';
import { startManagedServer, type ManagedServer } from '../target/managed-server.js';

/**
 * `--server-cmd "python -m app --port {port}"`: any server as the chaos target. The text is split
 * into argv with shell-like quoting and run directly, never through a shell, so nothing in it is
 * expanded or redirected; shell operators are refused rather than passed on as arguments.
 */

const SPACE = new Set([' ', '\t', '\n', '\r']);
/** Unquoted, these would mean something to a shell: refuse them instead of surprising the user. */
const OPERATORS = new Set(['|', '&', ';', '<', '>', '(', ')', '`', '$']);

/** Splits a command line into argv: '…' literal, "…" with \\ \" \$ \` escapes, \x outside quotes. */
export function parseServerCommand(text: string, flag = '--server-cmd'): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  const fail = (what: string, at: number) =>
    new InvalidInputError(`${flag}: ${what} at character ${at + 1} of the command`, {
      hint: 'the command is run directly, not through a shell: quote arguments with \' or ", put variables in --server-env',
    });
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (SPACE.has(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw fail("unbalanced ' quote", i);
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const d = text[j]!;
        if (d === '\\' && j + 1 < text.length && '\\"$`\n'.includes(text[j + 1]!)) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          j++;
        } else if (d === '$' || d === '`') {
          throw fail(`"${d}" (no shell expands it)`, j);
        } else {
          word += d;
        }
      }
      if (j >= text.length) throw fail('unbalanced " quote', i);
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw fail('a trailing backslash', i);
      // Backslash-newline continues the line, as in a shell.
      if (text[i + 1] === '\n') inWord = word !== '';
      else word += text[i + 1];
      i++;
    } else if (OPERATORS.has(c)) {
      throw fail(`"${c}" (no shell runs the command: quote it if it is an argument)`, i);
    } else {
      word += c;
    }
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) throw new InvalidInputError(`${flag}: the command is empty`);
  return argv;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `['K=V', ...]` -> `{K: 'V'}` (a later K wins). Values may be secrets: errors never show them. */
export function parseServerEnv(entries: readonly string[], flag = '--server-env'): Record<string, string> {
  const env: Record<string, string> = {};
  entries.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const shown = ENV_NAME.test(name) ? `"${name}"` : `number ${i + 1}`;
    if (eq < 0) throw new InvalidInputError(`${flag} ${shown}: expected NAME=VALUE`);
    if (!ENV_NAME.test(name)) throw new InvalidInputError(`${flag} ${shown}: the name must be letters, digits and _, not starting with a digit`);
    env[name] = entry.slice(eq + 1);
  });
  return env;
}

export interface ServerCommandOptions {
  /** From parseServerCommand; `{port}` (and any `placeholders`) substituted in each argument. */
  argv: readonly string[];
  /** The child's whole environment (nothing is inherited): the cli passes its own plus --server-env. */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** The port the server listens on; by default a free loopback port, chosen first. */
  port?: number;
  /** Host of the server's URL (default 127.0.0.1). */
  host?: string;
  /** Default `http://{host}:{port}/health`; placeholders are substituted here too. */
  healthUrl?: string;
  /** More `{name}` placeholders, e.g. `{ proxy: '127.0.0.1:41234' }` for a dependency link. */
  placeholders?: Record<string, string>;
  /** How long the server may take to answer its health URL (default 20 s). */
  startTimeoutMs?: number;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

/**
 * Starts the command as a managed server (kill, restart on the same port, stderr tail) once its
 * health URL answers 2xx. A command that cannot be found is bad input (exit 2); one that never
 * becomes healthy fails (exit 1) naming the URL and the end of its stderr.
 */
export async function startServerCommand(options: ServerCommandOptions): Promise<ManagedServer> {
  const [first, ...rest] = options.argv;
  if (first === undefined || first === '') throw new InvalidInputError('--server-cmd: the command is empty');
  // The server must learn its port from us; a {port} only in the health URL would poll the wrong one.
  const usesPort = [...options.argv, ...Object.values(options.env)].some((v) => v?.includes('{port}'));
  if (!usesPort && options.port === undefined) {
    throw new InvalidInputError('--server-cmd: the command must take its port from {port}, e.g. "python -m app --port {port}"', {
      hint: 'govctl picks a free port and puts it where {port} is',
    });
  }
  const file = await resolveCommand(first, options.env['PATH'], options.cwd);
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const values: Record<string, string> = { ...options.placeholders, port: String(port) };
  const fill = (text: string) => text.replace(/\{([a-z_]+)\}/g, (all, name: string) => values[name] ?? all);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const healthUrl = fill(options.healthUrl ?? `${url}/health`);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env)) if (value !== undefined) env[name] = fill(value);
  try {
    return await startManagedServer({
      command: { file, args: rest.map(fill), url, healthUrl },
      env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    });
  } catch (err) {
    if (err instanceof OperationFailedError) {
      throw new OperationFailedError(`the server command did not become healthy at ${healthUrl}: ${err.message}`, {
        cause: err,
        hint: 'check the command, its --server-cwd and --server-env, and that it listens on {port}',
      });
    }
    if (err instanceof GovctlError) throw err;
    throw new OperationFailedError(`the server command ${first} could not be started: ${(err as Error).message}`, { cause: err });
  }
}

/** Where `command` would be run from: a path (relative to cwd) as is, a bare name from PATH. */
async function resolveCommand(command: string, path: string | undefined, cwd: string | undefined): Promise<string> {
  const notFound = (where: string) =>
    new InvalidInputError(`--server-cmd: command not found: ${command} (${where})`, { hint: 'give its full path, or set PATH with --server-env' });
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(cwd ?? '', command);
    if (!(await isExecutableFile(full))) throw notFound(`no executable file at ${full}`);
    return full;
  }
  const dirs = (path ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const full = resolve(cwd ?? '', dir, command);
    if (await isExecutableFile(full)) return full;
  }
  throw notFound(dirs.length === 0 ? 'the server environment has no PATH' : 'not in the PATH of the server environment');
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port nobody listens on right now (the OS picks it; it is free again once we close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
