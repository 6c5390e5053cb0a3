import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { newApiToken } from '../../core/api-token.js';
import { writeFileDurable } from '../../core/durable-write.js';
import { ExitCode, InvalidInputError, OperationFailedError, UsageError } from '../../core/errors.js';
import { parseRate } from '../../core/duration.js';
import { BootstrapTokenError, buildServer, type GovernanceServer } from '../../server/app.js';
import type { CliApp } from '../app.js';

export interface ServeFlags {
  host: string;
  port: string;
  dataDir: string;
  rateLimit: string;
  sync: 'full' | 'normal';
  corsOrigin?: string[];
  adminKeyFile?: string;
  logLevel: string;
  exitWithStdin?: boolean;
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

export async function serveCommand(app: CliApp, flags: ServeFlags): Promise<number> {
  const port = parsePort(flags.port);
  const rateLimit = parseRate(flags.rateLimit);
  const dataDir = resolve(app.io.cwd, flags.dataDir);
  const { token, generatedInto } = await bootstrapToken(app, flags.adminKeyFile);

  let server: GovernanceServer;
  try {
    server = await buildServer({
      dataDir,
      rateLimit,
      sync: flags.sync,
      ...(flags.corsOrigin ? { corsOrigins: flags.corsOrigin } : {}),
      ...(token ? { bootstrapAdminToken: token } : {}),
      logger: flags.logLevel === 'silent' ? false : { level: flags.logLevel, stream: app.io.stderr },
    });
  } catch (err) {
    if (err instanceof BootstrapTokenError) throw new InvalidInputError(`bootstrap admin key: ${err.message}`);
    throw new OperationFailedError(`cannot open the server state in ${dataDir}: ${(err as Error).message}`);
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
