import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { newApiToken } from '../../core/api-token.js';
import { writeFileDurable } from '../../core/durable-write.js';
import { ExitCode, InvalidInputError, OperationFailedError, UsageError } from '../../core/errors.js';
import { parsePositiveDuration, parseRate } from '../../core/duration.js';
import { DataDirInUseError, NoServerStateError, resetAdminKey } from '../../server/admin-reset.js';
import { BootstrapTokenError, buildServer, type ConnectionLimits, type GovernanceServer } from '../../server/app.js';
import { isLoopback } from '../../server/logging.js';
import type { CliApp } from '../app.js';
import { useColor } from '../render/style.js';

export interface ServeFlags {
  host: string;
  port: string;
  dataDir: string;
  rateLimit: string;
  sync: 'full' | 'normal';
  corsOrigin?: string[];
  adminKeyFile?: string;
  logLevel: string;
  logFormat?: 'auto' | 'pretty' | 'json';
  requestTimeout: string;
  headersTimeout: string;
  keepAliveTimeout: string;
  maxConnections: string;
  exitWithStdin?: boolean;
}

export interface ResetAdminKeyFlags {
  dataDir: string;
  revokeExisting?: boolean;
}

/** The admin key for a first start: the environment, the key file, or none (the server makes one). */
async function bootstrapToken(app: CliApp, keyFile: string | undefined): Promise<{ token?: string; generatedInto?: string }> {
  const fromEnv = app.io.env['GOVCTL_BOOTSTRAP_ADMIN_KEY'];
  if (fromEnv) return { token: fromEnv.trim() };
  if (!keyFile) return {};
  try {
    return { token: (await readFile(keyFile, 'utf8')).trim() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InvalidInputError(`cannot read admin key file ${keyFile}: ${(err as Error).message}`);
    }
  }
  const fresh = newApiToken().token;
  await writeFileDurable(keyFile, `${fresh}\n`, { mode: 0o600, dirMode: 0o700 });
  return { token: fresh, generatedInto: keyFile };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`invalid --port "${text}": use 0-65535`);
  return port;
}

function parseLimits(flags: ServeFlags): ConnectionLimits {
  const maxConnections = Number(flags.maxConnections);
  if (!/^\d+$/.test(flags.maxConnections) || !Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    throw new UsageError(`invalid --max-connections "${flags.maxConnections}": use a whole number of at least 1`);
  }
  const limits: ConnectionLimits = {
    requestTimeoutMs: parsePositiveDuration(flags.requestTimeout, '--request-timeout'),
    headersTimeoutMs: parsePositiveDuration(flags.headersTimeout, '--headers-timeout'),
    keepAliveTimeoutMs: parsePositiveDuration(flags.keepAliveTimeout, '--keep-alive-timeout'),
    maxConnections,
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new UsageError(`--headers-timeout (${flags.headersTimeout}) must not exceed --request-timeout (${flags.requestTimeout})`);
  }
  return limits;
}

export async function serveCommand(app: CliApp, flags: ServeFlags): Promise<number> {
  const port = parsePort(flags.port);
  const rateLimit = parseRate(flags.rateLimit);
  const limits = parseLimits(flags);
  const dataDir = resolve(app.io.cwd, flags.dataDir);
  // Asked for only on a first start: an initialised data dir never reads or generates a key file.
  let generatedInto: string | undefined;
  const bootstrap = async (): Promise<string | undefined> => {
    const chosen = await bootstrapToken(app, flags.adminKeyFile);
    generatedInto = chosen.generatedInto;
    return chosen.token;
  };

  let server: GovernanceServer;
  try {
    server = await buildServer({
      dataDir,
      rateLimit,
      sync: flags.sync,
      limits,
      ...(flags.corsOrigin ? { corsOrigins: flags.corsOrigin } : {}),
      bootstrapAdminToken: bootstrap,
      logger: flags.logLevel === 'silent' ? false : { level: flags.logLevel, stream: app.io.stderr },
      ...logFormat(app, flags),
    });
  } catch (err) {
    if (err instanceof BootstrapTokenError) throw new InvalidInputError(`bootstrap admin key: ${err.message}`);
    if (err instanceof InvalidInputError) throw err;
    if (err instanceof DataDirInUseError) {
      throw new OperationFailedError(`cannot start: ${err.message}`, { hint: 'stop that server first, or pass another --data-dir' });
    }
    throw new OperationFailedError(`cannot open the server state in ${dataDir}: ${(err as Error).message}`);
  }
  const bootstrapSources = [
    ...(app.io.env['GOVCTL_BOOTSTRAP_ADMIN_KEY'] ? ['GOVCTL_BOOTSTRAP_ADMIN_KEY'] : []),
    ...(flags.adminKeyFile ? ['--admin-key-file'] : []),
  ];
  if (server.initialised && bootstrapSources.length > 0) {
    app.info(
      `govctl serve: ${bootstrapSources.join(' and ')} not used: ${dataDir} already has an admin key (lost it? stop the server and run: govctl serve reset-admin-key --data-dir ${dataDir})`,
    );
  }

  const showGeneratedKey = () =>
    app.io.stderr.write(
      `\nFirst start: created an admin key. It is shown this once; store it now (e.g. export GOVCTL_ADMIN_KEY=...):\n\n  ${server.generatedAdminToken}\n\n`,
    );
  let url: string;
  try {
    url = await server.listen(flags.host, port);
  } catch (err) {
    await server.close();
    // The key is already stored in the data dir: withholding it now would lock the user out.
    if (server.generatedAdminToken) showGeneratedKey();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new OperationFailedError(`cannot listen on ${flags.host}:${port}: ${why}`, {
      hint: code === 'EADDRINUSE' ? 'choose another --port, or --port 0 for a free one' : undefined,
    });
  }

  // One line, so a parent process can read it as soon as it arrives.
  if (app.json) app.print(JSON.stringify({ url, pid: process.pid, data_dir: dataDir }));
  else app.print(`govctl serve: listening on ${url} (data: ${dataDir})`);
  const bound = new URL(url).hostname;
  if (!isLoopback(bound)) {
    app.warn(`listening on ${new URL(url).host} without TLS: put a TLS-terminating proxy in front, or bind 127.0.0.1`);
  }
  if (server.generatedAdminToken) {
    showGeneratedKey();
  } else if (generatedInto) {
    app.info(`first start: admin key written to ${generatedInto} (mode 0600)`);
  }

  await stopRequested(app, flags.exitWithStdin === true);
  app.info('govctl serve: stopping (finishing in-flight requests, committing the audit log)');
  await server.close();
  return ExitCode.ok;
}

/** Human log lines on a terminal (coloured as the cli's own output would be), JSON lines otherwise. */
function logFormat(app: CliApp, flags: ServeFlags): { logFormat: 'pretty' | 'json'; logColor: boolean } {
  const tty = app.io.stderrIsTTY === true;
  const format = flags.logFormat === 'pretty' || flags.logFormat === 'json' ? flags.logFormat : tty ? 'pretty' : 'json';
  return { logFormat: format, logColor: format === 'pretty' && useColor(tty, app.io.env, app.globals.color) };
}

/** Resolves on Ctrl-C / SIGTERM, or when stdin closes under --exit-with-stdin. */
function stopRequested(app: CliApp, exitWithStdin: boolean): Promise<void> {
  const stdin = app.io.stdin as NodeJS.ReadableStream & { destroy?: () => void };
  return new Promise<void>((resolve) => {
    if (app.signal.aborted) return resolve();
    app.signal.addEventListener('abort', () => resolve(), { once: true });
    if (exitWithStdin) {
      stdin.on('end', () => resolve());
      stdin.on('close', () => resolve());
      stdin.resume();
    }
  }).finally(() => {
    // A stdin still being read would keep the process alive after the server stopped.
    if (exitWithStdin) stdin.destroy?.();
  });
}

/** `govctl serve reset-admin-key`: offline recovery of a lost admin key; prints the new key once. */
export async function resetAdminKeyCommand(app: CliApp, flags: ResetAdminKeyFlags): Promise<number> {
  const dataDir = resolve(app.io.cwd, flags.dataDir);
  let result;
  try {
    result = resetAdminKey(dataDir, { revokeExisting: flags.revokeExisting === true });
  } catch (err) {
    if (err instanceof NoServerStateError) throw new InvalidInputError(err.message, { hint: 'pass the --data-dir the server runs with' });
    if (err instanceof DataDirInUseError) throw new OperationFailedError(err.message, { hint: 'stop govctl serve, run this again, then start it' });
    throw new OperationFailedError(`cannot reset the admin key in ${dataDir}: ${(err as Error).message}`);
  }
  if (app.json) {
    app.print(JSON.stringify({ key_id: result.keyId, api_key: result.token, revoked: result.revoked }));
  } else {
    app.info(`govctl serve: created admin key ${result.keyId}; it is shown this once, store it now (e.g. export GOVCTL_ADMIN_KEY=...):`);
    if (result.revoked.length > 0) app.info(`govctl serve: deactivated ${result.revoked.length} other admin key(s): ${result.revoked.join(', ')}`);
    app.print(result.token);
  }
  return ExitCode.ok;
}
