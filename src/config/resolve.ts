import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../core/errors.js';
import { requireContext, type GovctlConfig } from './contexts.js';

export type Source = 'flag' | 'env' | 'context' | 'none';

export interface ConnectionFlags {
  url?: string;
  adminKey?: string;
  context?: string;
}

export interface ResolvedConnection {
  url?: string;
  adminKey?: string;
  contextName?: string;
  sources: { url: Source; adminKey: Source };
}

/**
 * Where govctl connects and with which admin key. Precedence: flag > environment
 * (GOVCTL_URL, GOVCTL_ADMIN_KEY) > context (--context, GOVCTL_CONTEXT, or the current one).
 */
export async function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  config: GovctlConfig,
): Promise<ResolvedConnection> {
  const contextName = flags.context ?? env['GOVCTL_CONTEXT'] ?? config.current_context;
  const context = contextName === undefined ? undefined : requireContext(config, contextName);

  let url: string | undefined;
  let urlSource: Source = 'none';
  if (flags.url) [url, urlSource] = [flags.url, 'flag'];
  else if (env['GOVCTL_URL']) [url, urlSource] = [env['GOVCTL_URL'], 'env'];
  else if (context) [url, urlSource] = [context.url, 'context'];

  let adminKey: string | undefined;
  let keySource: Source = 'none';
  if (flags.adminKey) [adminKey, keySource] = [flags.adminKey, 'flag'];
  else if (env['GOVCTL_ADMIN_KEY']) [adminKey, keySource] = [env['GOVCTL_ADMIN_KEY'], 'env'];
  else if (context) {
    adminKey = await contextAdminKey(contextName!, context, env);
    if (adminKey !== undefined) keySource = 'context';
  }

  return {
    ...(url !== undefined ? { url } : {}),
    ...(adminKey !== undefined ? { adminKey } : {}),
    ...(context ? { contextName: contextName! } : {}),
    sources: { url: urlSource, adminKey: keySource },
  };
}

async function contextAdminKey(
  name: string,
  context: { admin_key_env?: string; admin_key_file?: string; admin_key?: string },
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (context.admin_key_env) {
    const value = env[context.admin_key_env];
    if (!value) {
      throw new InvalidInputError(`context "${name}" reads its admin key from $${context.admin_key_env}, which is not set`);
    }
    return value.trim();
  }
  if (context.admin_key_file) {
    try {
      return (await readFile(context.admin_key_file, 'utf8')).trim();
    } catch (err) {
      throw new InvalidInputError(
        `context "${name}" reads its admin key from ${context.admin_key_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  return context.admin_key;
}
