import type { GovernanceClient } from '../../client/governance-client.js';
import { OperationFailedError, messageOf } from '../../core/errors.js';
import type { ManagedServer, RestartResult } from '../../target/managed-server.js';
import type { ChaosTarget, InjectedFault, Probe, ProbeCheck, ProbeContext } from '../types.js';

/**
 * restart: kill the server (SIGKILL, or SIGTERM for a graceful stop) and start it again at once
 * on the same data dir and port; the restart is part of the fault, so recovery is measured from
 * the kill. What the traffic had acknowledged once the old process was gone is handed to the
 * runner's records accounting (`acknowledged_before_kill`): a decision answered 200 by the old
 * process must be in the usage log. Keys and policies must come back unchanged.
 */

/** How long a graceful stop may take before the process is SIGKILLed. */
const GRACEFUL_STOP_MS = 10_000;

export const restartProbe: Probe = {
  name: 'restart',

  skipReason(target: ChaosTarget): string | undefined {
    return target.server ? undefined : 'restart needs a server govctl manages: the embedded server or --server-cmd';
  },

  async inject(ctx: ProbeContext): Promise<InjectedFault> {
    const server = ctx.target.server;
    if (!server) throw new OperationFailedError('restart needs a server govctl manages: the embedded server or --server-cmd');
    const before = await readState(ctx.cleanupClient).catch((err: unknown) => {
      ctx.emit({ type: 'warning', message: `restart: keys and policies not compared: they could not be read before the kill: ${messageOf(err)}` });
      return undefined;
    });
    if (!server.running) throw new OperationFailedError('restart: the server was not running before the kill');
    const pid = server.pid;
    const signalName = ctx.options.signalName;
    const killedAt = Date.now();
    let forced = false;
    if (signalName === 'SIGKILL') {
      server.kill('SIGKILL');
      await server.exited;
    } else {
      forced = (await server.stop('SIGTERM', GRACEFUL_STOP_MS)).forced;
    }
    // Taken once the old process is gone: every 200 it sent, including answers still in flight
    // at the kill, has been counted, and nothing the new process answers is.
    const acknowledged = ctx.traffic.snapshot();
    const restarted = startAgain(server, ctx.options.budgetMs);

    let removing: Promise<RestartResult> | undefined;
    const remove = () => {
      removing ??= ensureRunning(server, restarted, ctx.options.budgetMs);
      return removing;
    };
    return {
      kind: 'restart',
      params: { signal: signalName, pid, ...(forced ? { forced_kill_after_ms: GRACEFUL_STOP_MS } : {}) },
      injected_at: killedAt,
      instantaneous: true,
      acknowledged_before_kill: acknowledged,
      async remove() {
        await remove();
      },
      async checks(): Promise<ProbeCheck[]> {
        const restart = await remove();
        const checks: ProbeCheck[] = [
          {
            name: 'restarted on the same port',
            passed: !restart.portChanged,
            detail: restart.portChanged ? `the port was taken: now ${restart.url} (was ${restart.previousUrl})` : restart.url,
          },
        ];
        if (forced) {
          checks.push({ name: 'stopped gracefully on SIGTERM', passed: false, detail: `still running ${GRACEFUL_STOP_MS / 1000} s after SIGTERM: SIGKILLed` });
        }
        if (before) checks.push(...(await compareState(ctx.cleanupClient, before)));
        return checks;
      },
    };
  },
};

type RestartOutcome = { ok: true; result: RestartResult } | { ok: false; error: unknown };

/** Starts the server again in the background; never rejects (remove() reports the outcome). */
function startAgain(server: ManagedServer, timeoutMs: number): Promise<RestartOutcome> {
  // No abort signal: after a Ctrl-C the rollback wants the server running, so the start goes on.
  return server.restart({ startTimeoutMs: timeoutMs }).then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Waits for the restart; when it failed (or the process died since), one more start. */
async function ensureRunning(server: ManagedServer, restarted: Promise<RestartOutcome>, timeoutMs: number): Promise<RestartResult> {
  const outcome = await restarted;
  if (outcome.ok && server.running) return outcome.result;
  const first = outcome.ok ? 'exited after the restart' : messageOf(outcome.error);
  try {
    return await server.restart({ startTimeoutMs: timeoutMs });
  } catch (err) {
    throw new OperationFailedError(`the server did not start again after the kill: ${first}; a second start: ${messageOf(err)}`, { cause: err });
  }
}

interface State {
  /** Active keys: key_id -> "name/role". */
  keys: Map<string, string>;
  /** Policies: key (or id) -> JSON of enabled and value. */
  policies: Map<string, string>;
}

async function readState(client: GovernanceClient): Promise<State> {
  const [keys, policies] = await Promise.all([client.listKeys(), client.listPolicies()]);
  return {
    keys: new Map(keys.filter((k) => k.active !== false && k.key_id !== null).map((k) => [k.key_id!, `${k.name ?? ''}/${k.role ?? ''}`])),
    policies: new Map(policies.map((p) => [String(p.key ?? p.id), stableJson({ enabled: p.enabled, value: p.value })])),
  };
}

async function compareState(client: GovernanceClient, before: State): Promise<ProbeCheck[]> {
  let after: State;
  try {
    after = await readState(client);
  } catch (err) {
    const detail = `could not be read after the restart: ${messageOf(err)}`;
    return [
      { name: 'keys unchanged', passed: false, detail },
      { name: 'policies unchanged', passed: false, detail },
    ];
  }
  return [compareMaps('keys unchanged', 'active key', before.keys, after.keys), compareMaps('policies unchanged', 'policy', before.policies, after.policies)];
}

/** Names differences by id only: key names and policy values stay out of the journal. */
function compareMaps(name: string, what: string, before: Map<string, string>, after: Map<string, string>): ProbeCheck {
  const missing = [...before.keys()].filter((id) => !after.has(id));
  const added = [...after.keys()].filter((id) => !before.has(id));
  const changed = [...before.keys()].filter((id) => after.has(id) && after.get(id) !== before.get(id));
  const problems = [
    missing.length > 0 ? `${missing.length} ${what}(s) gone: ${list(missing)}` : '',
    added.length > 0 ? `${added.length} new: ${list(added)}` : '',
    changed.length > 0 ? `${changed.length} changed: ${list(changed)}` : '',
  ].filter((p) => p !== '');
  return problems.length === 0
    ? { name, passed: true, detail: `${before.size} ${what}(s), the same after the restart` }
    : { name, passed: false, detail: problems.join('; ') };
}

function list(ids: string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')}, ...`;
}

/** JSON with object keys sorted, so equal values compare equal whatever order the server used. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
