import { GovctlError, UnreachableError } from '../../core/errors.js';
import { govctlVersion } from '../../core/version.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, styled, type Cell } from '../render/output.js';

export interface ServerVersion {
  url: string;
  /** The context the URL came from; null when --url or GOVCTL_URL named it. */
  context: string | null;
  /** null when the server did not say, or could not be asked. */
  version: string | null;
  /** Why the version could not be asked, e.g. "cannot reach 127.0.0.1:9: connection refused". */
  error?: string;
}

export interface VersionInfo {
  govctl: string;
  node: string;
  platform: string;
  server: ServerVersion | null;
}

/**
 * The configured server's URL and context, resolved as every command resolves them (flag >
 * environment > context) but never reading an admin key: asking a version needs none, so a
 * context whose key variable is unset still answers.
 */
async function configuredServer(app: CliApp): Promise<{ url: string; context: string | null } | undefined> {
  const g = app.globals;
  if (g.embedded) return undefined;
  const [{ configPath, loadConfig }, { resolveConnection }, { withoutCredentials }] = await Promise.all([
    import('../../config/contexts.js'),
    import('../../config/resolve.js'),
    import('../../core/url-credentials.js'),
  ]);
  const config = await loadConfig(configPath(app.io.env));
  const keyless = { ...config, contexts: Object.fromEntries(Object.entries(config.contexts).map(([name, c]) => [name, { url: c.url }])) };
  const env = { ...app.io.env, GOVCTL_ADMIN_KEY: undefined };
  const connection = await resolveConnection({ ...(g.url !== undefined ? { url: g.url } : {}), ...(g.context !== undefined ? { context: g.context } : {}) }, env, keyless);
  if (connection.url === undefined) return undefined;
  app.contextName = connection.contextName;
  return { url: withoutCredentials(connection.url), context: connection.sources.url === 'context' ? (connection.contextName ?? null) : null };
}

async function serverVersion(app: CliApp, server: { url: string; context: string | null }): Promise<ServerVersion> {
  // A remote target only: resolveTarget starts nothing when a URL is given.
  const target = await app.target(undefined, { url: server.url, sources: { url: 'flag', adminKey: 'none' } });
  const client = await app.clientFor(target, { signal: app.signal, settings: await app.clientSettings() });
  try {
    const health = await client.health();
    return { ...server, version: health.version };
  } catch (err) {
    // Unreachable, TLS, a non-HTTP port, a server error: the version line says so, the rest stands.
    if (app.signal.aborted || !(err instanceof GovctlError)) throw err;
    const what = err instanceof UnreachableError ? 'unreachable' : 'error';
    return { ...server, version: null, error: `${what} (${err.message})` };
  }
}

export async function collectVersions(app: CliApp): Promise<VersionInfo> {
  const server = await configuredServer(app);
  return {
    govctl: govctlVersion(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    server: server === undefined ? null : await serverVersion(app, server),
  };
}

export async function versionCommand(app: CliApp): Promise<number> {
  const info = await collectVersions(app);
  if (app.json) {
    app.printJson(info);
    return 0;
  }
  const s = app.style;
  const server = info.server;
  let line: Cell;
  if (server === null) line = styled(s.dim(app.globals.embedded ? 'not asked (--embedded starts no server for version)' : 'not configured (--url, GOVCTL_URL or a context)'));
  else {
    const where = server.context === null ? server.url : `${server.url}, context ${server.context}`;
    // An error names the host already.
    line = server.error !== undefined ? styled(s.red(server.error)) : `${server.version ?? 'unknown (the server did not say)'} (${where})`;
  }
  const rows: Array<[string, Cell]> = [
    ['govctl', info.govctl],
    ['node', info.node],
    ['platform', info.platform],
    ['server', line],
  ];
  app.print(renderKeyValues(rows, s));
  return 0;
}
