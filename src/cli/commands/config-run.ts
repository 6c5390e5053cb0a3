import {
  configPath,
  deleteContext,
  isWorldReadable,
  loadConfig,
  saveConfig,
  setContext,
  useContext,
  type ContextEntry,
} from '../../config/contexts.js';
import { checkAdminKey } from '../../config/resolve.js';
import { hasCredentials, withoutCredentials } from '../../core/url-credentials.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { renderTable } from '../render/output.js';

export interface SetContextFlags {
  adminKeyEnv?: string;
  adminKeyFile?: string;
  storeSecret?: boolean;
}

function validateUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid --url "${text}": use a full URL such as https://gov.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`invalid --url "${text}": use http or https`);
  // They would sit in the file in clear, and govctl never sends them: the admin key is the credential.
  if (hasCredentials(text)) {
    throw new UsageError(`--url ${withoutCredentials(text)} must not carry a user name or password`, {
      hint: 'give the admin key with --admin-key-env or --admin-key-file instead',
    });
  }
}

export async function setContextCommand(app: CliApp, name: string, flags: SetContextFlags): Promise<number> {
  // --url is the global option; here it names the context's server.
  const url = app.globals.url;
  if (url === undefined) throw new UsageError('set-context needs --url URL', { hint: `govctl config set-context ${name} --url https://gov.example.com` });
  validateUrl(url);
  const sources = [flags.adminKeyEnv, flags.adminKeyFile, flags.storeSecret].filter((s) => s !== undefined);
  if (sources.length > 1) throw new UsageError('give at most one of --admin-key-env, --admin-key-file, --store-secret');
  const entry: ContextEntry = { url };
  if (flags.adminKeyEnv) entry.admin_key_env = flags.adminKeyEnv;
  if (flags.adminKeyFile) entry.admin_key_file = flags.adminKeyFile;
  if (flags.storeSecret) {
    const secret = app.globals.adminKey ?? app.io.env['GOVCTL_ADMIN_KEY'];
    if (!secret) throw new UsageError('--store-secret stores the key given with --admin-key or GOVCTL_ADMIN_KEY; neither is set');
    entry.admin_key = checkAdminKey(secret, app.globals.adminKey !== undefined ? '--admin-key' : 'GOVCTL_ADMIN_KEY');
    app.warn('the admin key is stored in the config file itself (mode 0600); a key reference (--admin-key-env) is safer');
  }
  const path = configPath(app.io.env);
  const next = setContext(await loadConfig(path), name, entry);
  await saveConfig(path, next);
  if (app.json) app.printJson({ context: name, current: next.current_context === name, path });
  else app.print(`context "${name}" saved${next.current_context === name ? ' (current)' : ''} in ${path}`);
  return ExitCode.ok;
}

export async function useContextCommand(app: CliApp, name: string): Promise<number> {
  const path = configPath(app.io.env);
  await saveConfig(path, useContext(await loadConfig(path), name));
  if (app.json) app.printJson({ current_context: name });
  else app.print(`switched to context "${name}"`);
  return ExitCode.ok;
}

export async function deleteContextCommand(app: CliApp, name: string): Promise<number> {
  const path = configPath(app.io.env);
  await saveConfig(path, deleteContext(await loadConfig(path), name));
  if (app.json) app.printJson({ deleted: name });
  else app.print(`deleted context "${name}"`);
  return ExitCode.ok;
}

/** Where a context's admin key comes from, in words; never the key itself. */
function keySource(entry: ContextEntry): string {
  if (entry.admin_key_env) return `env ${entry.admin_key_env}`;
  if (entry.admin_key_file) return `file ${entry.admin_key_file}`;
  if (entry.admin_key) return 'stored (hidden)';
  return 'none';
}

export async function getContextsCommand(app: CliApp): Promise<number> {
  const path = configPath(app.io.env);
  const config = await loadConfig(path);
  if (await isWorldReadable(path)) app.warn(`${path} is readable by other users; run: chmod 600 ${path}`);
  const rows = Object.entries(config.contexts).map(([name, entry]) => ({
    name,
    current: config.current_context === name,
    url: withoutCredentials(entry.url),
    admin_key: keySource(entry),
  }));
  if (app.json) {
    app.printJson({ current_context: config.current_context ?? null, contexts: rows });
  } else if (rows.length === 0) {
    app.print('no contexts yet; create one with: govctl config set-context NAME --url URL');
  } else {
    app.print(renderTable(['CURRENT', 'NAME', 'URL', 'ADMIN KEY'], rows.map((r) => [r.current ? '*' : '', r.name, r.url, r.admin_key]), app.style, { width: app.tableWidth }));
  }
  return ExitCode.ok;
}

export async function currentContextCommand(app: CliApp): Promise<number> {
  const config = await loadConfig(configPath(app.io.env));
  if (app.json) app.printJson({ current_context: config.current_context ?? null });
  else app.print(config.current_context ?? 'no current context');
  return config.current_context === undefined ? ExitCode.notFound : ExitCode.ok;
}
