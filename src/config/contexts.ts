import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileDurable } from '../core/durable-write.js';
import { InvalidInputError, NotFoundError } from '../core/errors.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';

/** One named target, like a kubectl context. The admin key is referenced, not stored, unless asked. */
export interface ContextEntry {
  url: string;
  admin_key_env?: string;
  admin_key_file?: string;
  /** A raw admin key, only with `--store-secret`. */
  admin_key?: string;
}

export interface GovctlConfig {
  version: 1;
  current_context?: string;
  contexts: Record<string, ContextEntry>;
}

const configSchema = {
  type: 'object',
  required: ['version', 'contexts'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    current_context: { type: 'string' },
    contexts: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        properties: {
          url: { type: 'string', minLength: 1 },
          admin_key_env: { type: 'string', minLength: 1 },
          admin_key_file: { type: 'string', minLength: 1 },
          admin_key: { type: 'string', minLength: 1 },
        },
      },
    },
  },
};

let validateConfig: Validator<GovctlConfig> | undefined;

export const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** $GOVCTL_CONFIG, else $XDG_CONFIG_HOME/govctl/config.json, else ~/.config/govctl/config.json. */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env['GOVCTL_CONFIG']) return env['GOVCTL_CONFIG'];
  const base = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return join(base, 'govctl', 'config.json');
}

export function emptyConfig(): GovctlConfig {
  return { version: 1, contexts: {} };
}

/** The config file, or an empty config when there is none; invalid content names the field. */
export async function loadConfig(path: string): Promise<GovctlConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw new InvalidInputError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`config file ${path} is not valid JSON: ${(err as Error).message}`, {
      hint: 'fix or delete the file; govctl config set-context writes a new one',
    });
  }
  validateConfig ??= compileSchema<GovctlConfig>(configSchema);
  return assertValid(validateConfig, parsed, `config file ${path}`);
}

/** True when the file can be read by anyone but its owner. */
export async function isWorldReadable(path: string): Promise<boolean> {
  try {
    return ((await stat(path)).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** Written atomically, readable by the owner only: it may name where secrets live. */
export async function saveConfig(path: string, config: GovctlConfig): Promise<void> {
  await writeFileDurable(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, dirMode: 0o700 });
}

export function setContext(config: GovctlConfig, name: string, entry: ContextEntry): GovctlConfig {
  if (!CONTEXT_NAME.test(name)) {
    throw new InvalidInputError(`invalid context name "${name}": use letters, digits, ".", "_" or "-" (at most 64)`);
  }
  const next: GovctlConfig = { ...config, contexts: { ...config.contexts, [name]: entry } };
  next.current_context ??= name;
  return next;
}

export function useContext(config: GovctlConfig, name: string): GovctlConfig {
  requireContext(config, name);
  return { ...config, current_context: name };
}

export function deleteContext(config: GovctlConfig, name: string): GovctlConfig {
  requireContext(config, name);
  const contexts = { ...config.contexts };
  delete contexts[name];
  const next: GovctlConfig = { ...config, contexts };
  if (next.current_context === name) delete next.current_context;
  return next;
}

/** The context named `name`, own entries only: "constructor" or "__proto__" is not found on Object.prototype. */
export function findContext(config: GovctlConfig, name: string): ContextEntry | undefined {
  return Object.hasOwn(config.contexts, name) ? config.contexts[name] : undefined;
}

export function requireContext(config: GovctlConfig, name: string): ContextEntry {
  const entry = findContext(config, name);
  if (!entry) {
    const known = Object.keys(config.contexts);
    throw new NotFoundError(`no context named "${name}"`, {
      hint: known.length > 0 ? `known contexts: ${known.join(', ')}` : 'create one with: govctl config set-context NAME --url URL',
    });
  }
  return entry;
}
