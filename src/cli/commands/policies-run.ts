import type { GovernanceClient } from '../../client/governance-client.js';
import type { PolicyInfo } from '../../client/shapes.js';
import { ExitCode, InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, renderTable, styled, type Cell } from '../render/output.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(`--value is not valid JSON: ${(err as Error).message}`, {
      hint: `quote it for your shell, e.g. --value '{"max": 60}'`,
    });
  }
}

/** How a policy is named to the user: its key, else its id (field servers), escaped. */
const label = (p: PolicyInfo): string => visible(p.key ?? (p.id === null ? '-' : String(p.id)));

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

function enabledCell(app: CliApp, enabled: boolean | null): Cell {
  if (enabled === null) return null;
  return styled(enabled ? app.style.green('yes') : app.style.red('no'));
}

async function findPolicy(client: GovernanceClient, wanted: string): Promise<PolicyInfo> {
  const all = await client.listPolicies();
  const policy = all.find((p) => p.key === wanted || (p.id !== null && String(p.id) === wanted));
  if (!policy) {
    throw new NotFoundError(`no policy "${visible(wanted)}"`, { hint: `known policies: ${all.map(label).join(', ') || 'none'}` });
  }
  return policy;
}

function renderPolicy(app: CliApp, p: PolicyInfo): string {
  const s = app.style;
  return renderKeyValues(
    [
      ['key', p.key],
      ['id', p.id === null ? null : String(p.id)],
      ['name', p.name],
      ['enabled', enabledCell(app, p.enabled)],
      ['value', json(p.value)],
      ['violations', p.violations_count],
      ['description', p.description],
    ],
    s,
  );
}

export async function listPoliciesCommand(app: CliApp): Promise<number> {
  const { client } = await adminClient(app);
  const policies = await client.listPolicies();
  if (app.json) {
    app.printJson(policies);
  } else {
    const s = app.style;
    app.print(
      renderTable(
        ['KEY', 'ENABLED', 'VALUE', 'VIOLATIONS', 'NAME'],
        policies.map((p) => [p.key ?? (p.id === null ? null : String(p.id)), enabledCell(app, p.enabled), json(p.value), p.violations_count, p.name]),
        s,
      ),
    );
  }
  return ExitCode.ok;
}

export async function getPolicyCommand(app: CliApp, wanted: string): Promise<number> {
  const { client } = await adminClient(app);
  const policy = await findPolicy(client, wanted);
  if (app.json) app.printJson(policy);
  else app.print(renderPolicy(app, policy));
  return ExitCode.ok;
}

export async function setPolicyCommand(app: CliApp, wanted: string, changes: { enabled?: boolean; value?: unknown }): Promise<number> {
  const { client } = await adminClient(app);
  const policy = await findPolicy(client, wanted);
  const ref = policy.id !== null ? String(policy.id) : policy.key;
  if (ref === null) throw new NotFoundError(`policy "${visible(wanted)}" has neither an id nor a key the server can be asked about`);
  const updated = await client.updatePolicy(ref, changes);
  if (app.json) {
    app.printJson(updated);
  } else {
    const what = changes.enabled === undefined ? `value set to ${visible(JSON.stringify(changes.value))}` : changes.enabled ? 'enabled' : 'disabled';
    app.print(`policy ${label(policy)} ${what}; in force for the next decision`);
  }
  return ExitCode.ok;
}
