import type { GovernanceClient } from '../client/governance-client.js';
import { UnsupportedOperationError } from '../client/http.js';
import { AuthError, GovctlError, InterruptedError, NotFoundError, OperationFailedError, UsageError } from '../core/errors.js';

/**
 * The API keys a load run drives its requests with: provisioned through the admin API for the
 * run and revoked after it (also after Ctrl-C), or given by the user (`--api-key`,
 * `GOVCTL_API_KEYS`) for servers whose admin API is out of reach. Tokens are secrets: no error or
 * message here ever contains one.
 */

export interface ProvisionedKeys {
  /** `<key_id>.<secret>` tokens, in creation order. */
  tokens: string[];
  keyIds: string[];
  /**
   * Deletes every key (bounded parallelism and time; an already deleted key counts as revoked).
   * Never throws. Calling it again retries only the keys not yet revoked. `via` is another client
   * to revoke through: the run's client is useless once its signal (Ctrl-C) has fired.
   */
  revoke(via?: GovernanceClient): Promise<{ revoked: number; failed: number }>;
}

export interface ProvisionOptions {
  count: number;
  runId: string;
  signal?: AbortSignal;
  /** Admin requests in flight at once (default 4). */
  concurrency?: number;
  /** The most revoke() may take before it gives up on the keys not yet deleted (default 15 s). */
  revokeTimeoutMs?: number;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_REVOKE_TIMEOUT_MS = 15_000;
const KEYS_HINT = 'pass the admin key (GOVCTL_ADMIN_KEY or --admin-key), or drive the run with existing keys: --api-key TOKEN (repeatable) or GOVCTL_API_KEYS';

/** Creates `count` user keys named `govctl-load-<runId>-<i>`; on any failure those made are revoked first. */
export async function provisionKeys(client: GovernanceClient, options: ProvisionOptions): Promise<ProvisionedKeys> {
  const { count, runId, signal } = options;
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`the number of API keys to provision must be a positive integer (got ${count})`);
  const made: Array<{ token: string; keyId: string } | undefined> = new Array(count);
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      if (signal?.aborted) {
        failure = new InterruptedError('interrupted while provisioning API keys');
        return;
      }
      const i = next++;
      try {
        const created = await client.createKey({ name: `govctl-load-${runId}-${i}`, role: 'user' });
        const keyId = created.key_id ?? keyIdOf(created.api_key);
        if (keyId === undefined) throw new OperationFailedError('the server answered creating an API key without a key id');
        made[i] = { token: created.api_key, keyId };
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, options.concurrency ?? DEFAULT_CONCURRENCY) }, worker));
  const keys = made.filter((k): k is { token: string; keyId: string } => k !== undefined);
  const provisioned = keySet(client, keys, options.revokeTimeoutMs ?? DEFAULT_REVOKE_TIMEOUT_MS, options.concurrency ?? DEFAULT_CONCURRENCY);
  if (failure === undefined && signal?.aborted) failure = new InterruptedError('interrupted while provisioning API keys');
  if (failure !== undefined) {
    const { revoked } = await provisioned.revoke();
    throw explain(failure, `provisioning ${count} API key${count === 1 ? '' : 's'} for the run (${keys.length} made, ${revoked} of them revoked again)`);
  }
  return provisioned;
}

function keySet(
  client: GovernanceClient,
  keys: Array<{ token: string; keyId: string }>,
  timeoutMs: number,
  concurrency: number,
): ProvisionedKeys {
  const pending = new Set(keys.map((k) => k.keyId));
  let running: Promise<{ revoked: number; failed: number }> | undefined;
  return {
    tokens: keys.map((k) => k.token),
    keyIds: keys.map((k) => k.keyId),
    revoke(via) {
      // Concurrent calls share one pass; a later call retries only what is still there.
      running ??= revokeAll(via ?? client, pending, timeoutMs, concurrency).then(() => {
        running = undefined;
        return { revoked: keys.length - pending.size, failed: pending.size };
      });
      return running;
    },
  };
}

/** Deletes the keys in `pending`, taking each one out once it is gone; stops at the deadline. Never throws. */
async function revokeAll(client: GovernanceClient, pending: Set<string>, timeoutMs: number, concurrency: number): Promise<void> {
  const queue = [...pending];
  let expired = false;
  const worker = async (): Promise<void> => {
    while (!expired && queue.length > 0) {
      const keyId = queue.shift()!;
      try {
        await client.revokeKey(keyId);
        if (!expired) pending.delete(keyId);
      } catch (err) {
        // Already gone is what we wanted.
        if (err instanceof NotFoundError && !expired) pending.delete(keyId);
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([Promise.all(Array.from({ length: Math.min(queue.length, concurrency) }, worker)), deadline]);
  clearTimeout(timer);
  expired = true;
}

/** The error provisioning failed with, with what to do instead when the admin API is out of reach. */
function explain(err: unknown, context: string): unknown {
  if (err instanceof AuthError) return new AuthError(err.status, `${err.message} while ${context}`, { hint: KEYS_HINT, cause: err });
  if (err instanceof UsageError && /admin key/.test(err.message)) return new UsageError(`${context} needs an admin key`, { hint: KEYS_HINT, cause: err });
  if (err instanceof UnsupportedOperationError) return new OperationFailedError(`${err.message} while ${context}`, { hint: KEYS_HINT, cause: err });
  if (err instanceof GovctlError) {
    // Same class, exit code and hint; the message says what was being done.
    err.message = `${err.message} (while ${context})`;
    return err;
  }
  return new OperationFailedError(`${context} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** The key id of a `<key_id>.<secret>` token (the part before the last dot); undefined when it has no dot. */
export function keyIdOf(token: string): string | undefined {
  const dot = token.lastIndexOf('.');
  return dot > 0 ? token.slice(0, dot) : undefined;
}

/** The key ids of tokens, for audit accounting; undefined when any token does not carry one. */
export function keyIdsOf(tokens: string[]): string[] | undefined {
  const ids = tokens.map(keyIdOf);
  return ids.every((id): id is string => id !== undefined) ? ids : undefined;
}

/**
 * The tokens given with `--api-key TOKEN` (repeatable; these win) or GOVCTL_API_KEYS (separated
 * by commas or whitespace), without duplicates; undefined when neither gives one. A token with
 * spaces or control characters is a usage error that says where it came from, never the token.
 */
export function keysFromInput(flags: string[] | undefined, env: string | undefined): string[] | undefined {
  if (flags !== undefined && flags.length > 0) return unique(flags.map((token, i) => checked(token, `--api-key #${i + 1}`)));
  if (env === undefined) return undefined;
  const tokens = env.split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.length === 0) return undefined;
  return unique(tokens.map((token, i) => checked(token, `key #${i + 1} of GOVCTL_API_KEYS`)));
}

function checked(token: string, where: string): string {
  if (token === '') throw new UsageError(`${where} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f-\x9f]/.test(token)) {
    throw new UsageError(`${where} contains spaces or control characters (the key is not shown)`, {
      hint: 'check for a stray newline or quote where the key is set',
    });
  }
  return token;
}

function unique(tokens: string[]): string[] {
  return [...new Set(tokens)];
}
