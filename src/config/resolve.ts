import { readFile } from 'node:fs/promises';
import { InvalidInputError, UsageError } from '../core/errors.js';
import { requireContext, type ContextEntry, type GovctlConfig } from './contexts.js';
import { sameServer } from './url.js';

export type Source = 'flag' | 'env' | 'context' | 'none';

export interface ConnectionFlags {
  url?: string;
  adminKey?: string;
  context?: string;
}

/** A context's admin key that was not sent, because the URL in use names another server. */
export interface WithheldKey {
  context: string;
  /** The server the context (and its key) is for. */
  contextUrl: string;
  /** The server govctl talks to instead, and where that URL came from. */
  url: string;
  urlSource: 'flag' | 'env';
}

export interface ResolvedConnection {
  url?: string;
  adminKey?: string;
  contextName?: string;
  sources: { url: Source; adminKey: Source };
  /** Set when a context key exists but was kept back from a different server. */
  withheldKey?: WithheldKey;
}

/** An environment variable, with an empty value counted as unset (`GOVCTL_URL= govctl ...`). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Where govctl connects and with which admin key. Precedence: flag > environment
 * (GOVCTL_URL, GOVCTL_ADMIN_KEY) > context (--context, GOVCTL_CONTEXT, or the current one).
 *
 * A context's admin key is bound to the context's server, as kubectl and gh bind credentials:
 * it is sent only when the URL in use has the context's origin. With another --url or
 * GOVCTL_URL no context key is sent (`withheldKey` says so); a key given by flag or
 * GOVCTL_ADMIN_KEY goes with whatever URL is given, as asked.
 */
export async function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  config: GovctlConfig,
): Promise<ResolvedConnection> {
  const contextName = nonEmpty(flags.context) ?? envValue(env, 'GOVCTL_CONTEXT') ?? config.current_context;
  const context = contextName === undefined ? undefined : requireContext(config, contextName);

  let url: string | undefined;
  let urlSource: Source = 'none';
  const flagUrl = nonEmpty(flags.url);
  const envUrl = envValue(env, 'GOVCTL_URL');
  if (flagUrl !== undefined) [url, urlSource] = [flagUrl, 'flag'];
  else if (envUrl !== undefined) [url, urlSource] = [envUrl, 'env'];
  else if (context) [url, urlSource] = [context.url, 'context'];

  let adminKey: string | undefined;
  let keySource: Source = 'none';
  let withheldKey: WithheldKey | undefined;
  const flagKey = nonEmpty(flags.adminKey);
  const envKey = envValue(env, 'GOVCTL_ADMIN_KEY');
  if (flagKey !== undefined) [adminKey, keySource] = [checkAdminKey(flagKey, '--admin-key'), 'flag'];
  else if (envKey !== undefined) [adminKey, keySource] = [checkAdminKey(envKey, 'GOVCTL_ADMIN_KEY'), 'env'];
  else if (context && contextName !== undefined) {
    const boundHere = urlSource === 'context' || sameServer(url!, context.url);
    if (boundHere) {
      adminKey = await contextAdminKey(contextName, context, env);
      if (adminKey !== undefined) keySource = 'context';
    } else if (hasAdminKey(context)) {
      // Not even read: a missing variable or key file of an unused context is no error.
      withheldKey = { context: contextName, contextUrl: context.url, url: url!, urlSource: urlSource as 'flag' | 'env' };
    }
  }

  return {
    ...(url !== undefined ? { url } : {}),
    ...(adminKey !== undefined ? { adminKey } : {}),
    ...(context ? { contextName: contextName! } : {}),
    sources: { url: urlSource, adminKey: keySource },
    ...(withheldKey ? { withheldKey } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function hasAdminKey(context: ContextEntry): boolean {
  return context.admin_key_env !== undefined || context.admin_key_file !== undefined || context.admin_key !== undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/**
 * An admin key with control characters (a pasted newline, an escape sequence) is a usage
 * error, named by where it came from and never shown: it would otherwise break the request
 * header or reach a terminal.
 */
export function checkAdminKey(key: string, from: string): string {
  if (CONTROL.test(key)) {
    throw new UsageError(`the admin key from ${from} contains control characters (the key is not shown)`, {
      hint: 'check how it was copied: a stray newline, tab or escape sequence is not part of a key',
    });
  }
  return key;
}

async function contextAdminKey(name: string, context: ContextEntry, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (context.admin_key_env) {
    const value = envValue(env, context.admin_key_env)?.trim();
    if (!value) {
      throw new InvalidInputError(`context "${name}" reads its admin key from $${context.admin_key_env}, which is not set`);
    }
    return checkAdminKey(value, `$${context.admin_key_env} (context "${name}")`);
  }
  if (context.admin_key_file) {
    let text: string;
    try {
      text = await readFile(context.admin_key_file, 'utf8');
    } catch (err) {
      throw new InvalidInputError(
        `context "${name}" reads its admin key from ${context.admin_key_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    const key = text.trim();
    if (key === '') throw new InvalidInputError(`context "${name}" reads its admin key from ${context.admin_key_file}, which is empty`);
    return checkAdminKey(key, `${context.admin_key_file} (context "${name}")`);
  }
  return context.admin_key === undefined ? undefined : checkAdminKey(context.admin_key, `context "${name}"`);
}
