import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { newApiToken } from '../core/api-token.js';
import { InterruptedError, OperationFailedError } from '../core/errors.js';

export interface EmbeddedServer {
  url: string;
  /** The admin key the server was bootstrapped with (never printed). */
  adminKey: string;
  pid: number;
  dataDir: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and removes its data. */
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Extra `govctl serve` flags, e.g. ['--rate-limit', '100000/1s']. */
  serveArgs?: string[];
  startTimeoutMs?: number;
}

/** bin/govctl.js, from src/target or dist/target alike. */
export const GOVCTL_BIN = fileURLToPath(new URL('../../bin/govctl.js', import.meta.url));

/**
 * Starts the reference server as a child process (`govctl serve`) on a free loopback port with a
 * temporary data dir and a fresh admin key. The child also exits when our end of its stdin
 * closes, so it cannot outlive a parent that was killed.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'govctl-embedded-'));
  const admin = newApiToken();
  const child = execa(
    process.execPath,
    [
      GOVCTL_BIN,
      'serve',
      '--host', '127.0.0.1',
      '--port', '0',
      '--data-dir', dataDir,
      '--log-level', 'warn',
      '--exit-with-stdin',
      '-o', 'json',
      ...(options.serveArgs ?? []),
    ],
    {
      env: { ...options.env, GOVCTL_BOOTSTRAP_ADMIN_KEY: admin.token, NO_COLOR: '1' },
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      // A parent that exits without stopping us must not wait on us.
      cleanup: true,
    },
  );
  const stop = () => stopChild(child, dataDir);
  try {
    const url = await waitForListening(child, options.startTimeoutMs ?? 20_000, options.signal);
    return { url, adminKey: admin.token, pid: child.pid!, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForListening(child: ResultPromise, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  const lines = createInterface({ input: child.stdout! });
  return new Promise<string>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new OperationFailedError(`the embedded server did not start within ${timeoutMs} ms${tail(stderrTail)}`)),
      timeoutMs,
    );
    const onAbort = () => fail(new InterruptedError('interrupted while starting the embedded server'));
    signal?.addEventListener('abort', onAbort, { once: true });
    lines.once('line', (line) => {
      try {
        const url = (JSON.parse(line) as { url?: string }).url;
        if (!url) throw new Error('no url');
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(url);
      } catch {
        fail(new OperationFailedError(`the embedded server printed an unexpected first line: ${line.slice(0, 200)}`));
      }
    });
    void child.then((result) => {
      fail(new OperationFailedError(`the embedded server exited before it was ready (exit code ${String(result.exitCode)})${tail(stderrTail)}`));
    });
  });
}

function tail(stderr: string): string {
  const text = stderr.trim();
  return text === '' ? '' : `: ${text.split('\n').slice(-3).join(' | ')}`;
}

async function stopChild(child: ResultPromise, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await child;
    clearTimeout(timer);
  }
  await rm(dataDir, { recursive: true, force: true });
}
