import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { newApiToken } from '../core/api-token.js';
import { InterruptedError, OperationFailedError } from '../core/errors.js';
import { sampleProcess, type ProcessSample } from './proc-sample.js';
import { NotReadyError, pollHealth, waitForListeningLine } from './readiness.js';
import { StderrTail } from './stderr-tail.js';

/** bin/govctl.js, from src/target or dist/target alike. */
export const GOVCTL_BIN = fileURLToPath(new URL('../../bin/govctl.js', import.meta.url));

/** How a server process ended. */
export interface ServerExit {
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
}

export interface StopResult extends ServerExit {
  /** True when the process outlived `timeoutMs` and was SIGKILLed. */
  forced: boolean;
}

export interface RestartResult {
  url: string;
  previousUrl: string;
  /** The previous port could not be bound again, so the server listens on a new one. */
  portChanged: boolean;
}

/**
 * Any server command instead of `govctl serve` (chaos's `--server-cmd`): run as argv, never
 * through a shell. Its URL is known up front; it is ready once `healthUrl` answers 2xx.
 */
export interface ForeignServerCommand {
  file: string;
  args: string[];
  url: string;
  /** Default: `${url}/health`. */
  healthUrl?: string;
}

export interface ManagedServerOptions {
  /** The child's whole environment (the parent's is not inherited). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Reused as is and never removed. By default a fresh temp dir, removed by cleanup(). */
  dataDir?: string;
  /** govctl serve: the first admin key (GOVCTL_BOOTSTRAP_ADMIN_KEY); by default a fresh one. */
  adminKey?: string;
  /** govctl serve: --host (default 127.0.0.1) and --port (default 0, a free one). */
  host?: string;
  port?: number;
  /** govctl serve: --log-level (default warn). */
  logLevel?: string;
  /** govctl serve: extra flags, e.g. ['--rate-limit', '1000000/60s', '--sync', 'normal']. */
  serveArgs?: string[];
  /** govctl serve: node flags before bin/govctl.js, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  /** Run this instead of govctl serve. dataDir, adminKey and the serve options then do not apply. */
  command?: ForeignServerCommand;
  /** How long a start may take to reach readiness (default 20 s). */
  startTimeoutMs?: number;
  /** Ctrl-C while starting: the child is stopped, its temp data removed, InterruptedError thrown. */
  signal?: AbortSignal;
  /** Characters of stderr kept (the tail; default 64 Ki). */
  stderrLimit?: number;
  /** Called with each child's pid as soon as it is spawned, before readiness. */
  onSpawn?: (pid: number) => void;
}

export interface ManagedServer {
  /** Current URL; changes only when a restart could not get its port back. */
  readonly url: string;
  /** pid of the current (or last) process. */
  readonly pid: number;
  /** undefined for a foreign command without a data dir. */
  readonly dataDir: string | undefined;
  /** The admin key the server was bootstrapped with (govctl serve only; never printed). */
  readonly adminKey: string | undefined;
  /** True while the current process has not exited. */
  readonly running: boolean;
  /** Resolves when the current process has exited, however it ended. Never rejects. */
  readonly exited: Promise<ServerExit>;
  /** The last stderrLimit characters the current process wrote to stderr. */
  stderr(): string;
  /** Resolves once stderr matches; rejects after timeoutMs (default 10 s) or when the process exits first. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal (default SIGKILL); false when the process is already gone. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Sends `signal` (default SIGTERM), waits up to timeoutMs (default 10 s), then SIGKILLs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<StopResult>;
  /** Stops the process if it still runs, then starts it again on the same data dir and port. */
  restart(options?: { signal?: AbortSignal; startTimeoutMs?: number; stopTimeoutMs?: number }): Promise<RestartResult>;
  /** RSS and CPU of the current process from /proc; undefined when not running or not Linux. */
  sample(): ProcessSample | undefined;
  /** Removes the temp data dir this server created (never a caller's). Call after stopping. */
  cleanup(): Promise<void>;
  /** stop(signal, timeoutMs) then cleanup(): what a caller that is done with the server wants. */
  dispose(signal?: NodeJS.Signals, timeoutMs?: number): Promise<StopResult>;
}

/** Starts a managed server and waits until it is ready. */
export async function startManagedServer(options: ManagedServerOptions = {}): Promise<ManagedServer> {
  if (options.signal?.aborted) throw new InterruptedError('interrupted before the server started');
  let dataDir = options.dataDir;
  let ownsDataDir = false;
  if (dataDir === undefined && options.command === undefined) {
    dataDir = await mkdtemp(join(tmpdir(), 'govctl-server-'));
    ownsDataDir = true;
  }
  const server = new Managed(options, dataDir, ownsDataDir);
  registry.add(server);
  try {
    await server.launch(options.port ?? 0, options.signal, options.startTimeoutMs);
  } catch (err) {
    await server.cleanup();
    throw err;
  }
  return server;
}

/** Every managed server of this process that is running or still owns a temp dir. */
const registry = new Set<Managed>();

/**
 * Stops every managed server this process started (SIGKILL by default: afterEach must not wait)
 * and removes their temp data dirs. For test helpers and benchmark exit paths.
 */
export async function stopManagedServers(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const all = [...registry];
  // Every process first: another server may be running on a data dir one of these owns.
  await Promise.all(all.map((server) => (server.running ? server.stop(signal, 5_000) : undefined)));
  await Promise.all(all.map((server) => server.cleanup()));
}

/**
 * For a process 'exit' handler, where nothing async runs: SIGKILLs every managed server and
 * removes their temp data dirs synchronously.
 */
export function killManagedServersSync(): void {
  for (const server of registry) {
    server.kill('SIGKILL');
    server.cleanupSync();
  }
}

interface Current {
  child: ResultPromise;
  pid: number;
  exited: Promise<ServerExit>;
  running: boolean;
  stderr: StderrTail;
}

class Managed implements ManagedServer {
  private current: Current | undefined;
  private currentUrl = '';
  private bootstrapped = false;
  private busy = false;

  constructor(
    private readonly options: ManagedServerOptions,
    readonly dataDir: string | undefined,
    private ownsDataDir: boolean,
  ) {
    this.adminKey = options.command ? undefined : (options.adminKey ?? newApiToken().token);
  }

  readonly adminKey: string | undefined;

  get url(): string {
    return this.currentUrl;
  }
  get pid(): number {
    return this.current?.pid ?? 0;
  }
  get running(): boolean {
    return this.current?.running ?? false;
  }
  get exited(): Promise<ServerExit> {
    return this.current?.exited ?? Promise.resolve({ exitCode: undefined, signal: undefined });
  }

  stderr(): string {
    return this.current?.stderr.toString() ?? '';
  }

  waitForStderr(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const current = this.current;
    if (!current) return Promise.reject(new Error('the server was never started'));
    return current.stderr.waitFor(pattern, timeoutMs, current.exited, this.name());
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const current = this.current;
    if (!current?.running) return false;
    return current.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<StopResult> {
    const current = this.current;
    if (!current) return { exitCode: undefined, signal: undefined, forced: false };
    if (current.running) current.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const first = await Promise.race([current.exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return { ...first, forced: false };
    current.child.kill('SIGKILL');
    return { ...(await current.exited), forced: true };
  }

  async restart(options: { signal?: AbortSignal; startTimeoutMs?: number; stopTimeoutMs?: number } = {}): Promise<RestartResult> {
    if (this.busy) throw new Error(`${this.name()} is already starting`);
    if (this.running) await this.stop('SIGTERM', options.stopTimeoutMs);
    const previousUrl = this.currentUrl;
    const previousPort = this.options.command ? 0 : Number(new URL(previousUrl).port);
    try {
      await this.launch(previousPort, options.signal, options.startTimeoutMs);
    } catch (err) {
      // Someone took the port while we were down: a new one beats no server.
      if (!(err instanceof PortInUseError)) throw err;
      await this.launch(0, options.signal, options.startTimeoutMs);
    }
    return { url: this.currentUrl, previousUrl, portChanged: this.currentUrl !== previousUrl };
  }

  sample(): ProcessSample | undefined {
    return this.running ? sampleProcess(this.pid) : undefined;
  }

  async cleanup(): Promise<void> {
    if (!this.running) registry.delete(this);
    if (!this.ownsDataDir || this.dataDir === undefined) return;
    if (this.running) throw new Error(`${this.name()} is still running: stop it before removing its data dir`);
    this.ownsDataDir = false;
    await rm(this.dataDir, { recursive: true, force: true });
  }

  cleanupSync(): void {
    if (!this.ownsDataDir || this.dataDir === undefined) return;
    this.ownsDataDir = false;
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async dispose(signal?: NodeJS.Signals, timeoutMs?: number): Promise<StopResult> {
    const result = await this.stop(signal, timeoutMs);
    await this.cleanup();
    return result;
  }

  /** Spawns one process and waits for readiness; on any failure the process is gone before this throws. */
  async launch(port: number, signal: AbortSignal | undefined, startTimeoutMs = this.options.startTimeoutMs ?? 20_000): Promise<void> {
    this.busy = true;
    try {
      const current = this.spawn(port);
      this.current = current;
      registry.add(this);
      this.options.onSpawn?.(current.pid);
      const race = { exited: current.exited, timeoutMs: startTimeoutMs, ...(signal ? { signal } : {}) };
      try {
        const command = this.options.command;
        if (command) {
          current.child.stdout!.resume();
          await pollHealth(command.healthUrl ?? `${command.url.replace(/\/+$/, '')}/health`, race);
          this.currentUrl = command.url;
        } else {
          this.currentUrl = await waitForListeningLine(current.child.stdout!, race);
          this.bootstrapped = true;
        }
      } catch (err) {
        await this.stop('SIGTERM', 2_000);
        throw this.startError(err, current, port, startTimeoutMs);
      }
    } finally {
      this.busy = false;
    }
  }

  private spawn(port: number): Current {
    const { file, args, env } = this.commandLine(port);
    const child = execa(file, args, {
      env,
      extendEnv: false,
      ...(this.options.cwd !== undefined ? { cwd: this.options.cwd } : {}),
      // govctl serve --exit-with-stdin stops when this pipe closes: it cannot outlive us.
      stdin: this.options.command ? 'ignore' : 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      forceKillAfterDelay: false,
      // A parent that exits without stopping us kills the child on its way out.
      cleanup: true,
    });
    const stderr = new StderrTail(this.options.stderrLimit);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => stderr.append(chunk));
    const current: Current = {
      child,
      pid: child.pid ?? 0,
      running: true,
      stderr,
      exited: child.then(
        (result) => {
          if (result.failed && result.exitCode === undefined && result.signal === undefined) stderr.append(`${result.shortMessage}\n`);
          return { exitCode: result.exitCode, signal: result.signal };
        },
        (err: { exitCode?: number; signal?: NodeJS.Signals }) => ({ exitCode: err.exitCode, signal: err.signal }),
      ),
    };
    void current.exited.then(() => {
      current.running = false;
      if (!this.ownsDataDir && this.current === current) registry.delete(this);
    });
    return current;
  }

  private commandLine(port: number): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    const env = { ...(this.options.env ?? {}) };
    const command = this.options.command;
    if (command) return { file: command.file, args: command.args, env };
    const options = this.options;
    return {
      file: process.execPath,
      args: [
        ...(options.nodeArgs ?? []),
        GOVCTL_BIN,
        'serve',
        '--host', options.host ?? '127.0.0.1',
        '--port', String(port),
        '--data-dir', this.dataDir!,
        '--log-level', options.logLevel ?? 'warn',
        '--exit-with-stdin',
        '-o', 'json',
        ...(options.serveArgs ?? []),
      ],
      env: {
        ...env,
        NO_COLOR: '1',
        // Only the first start initialises the data dir; later starts would be told it is ignored.
        ...(this.bootstrapped ? {} : { GOVCTL_BOOTSTRAP_ADMIN_KEY: this.adminKey }),
      },
    };
  }

  private startError(err: unknown, current: Current, port: number, timeoutMs: number): Error {
    if (!(err instanceof NotReadyError)) return err as Error;
    const tail = current.stderr.summary();
    const said = tail === '' ? '' : `: ${tail}`;
    const name = this.name();
    switch (err.reason.kind) {
      case 'aborted':
        return new InterruptedError(`interrupted while starting ${name}`);
      case 'timeout':
        return new OperationFailedError(`${name} did not become ready within ${timeoutMs} ms${said}`);
      case 'bad-line':
        return new OperationFailedError(`${name} printed an unexpected first line: ${err.reason.line}`);
      case 'exited':
        if (port !== 0 && /port is in use|EADDRINUSE/.test(current.stderr.toString())) return new PortInUseError(port);
        return new OperationFailedError(`${name} exited before it was ready${said}`);
    }
  }

  private name(): string {
    return this.options.command ? `the server command (${this.options.command.file})` : 'govctl serve';
  }
}

/** Internal: a restart could not bind its previous port. */
class PortInUseError extends OperationFailedError {
  constructor(port: number) {
    super(`port ${port} is in use`);
  }
}
