import type { GovernanceClient } from '../../client/governance-client.js';
import type { PolicyInfo } from '../../client/shapes.js';
import { ExitCode, InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, renderTable, styled } from '../render/output.js';

export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(`--value is not valid JSON: ${(err as Error).message}`, {
      hint: `quote it for your shell, e.g. --value '{"max": 60}'`,
    });
  }
}

const label = (p: PolicyInfo): string => p.key ?? String(p.id ?? '?');

async function findPolicy(client: GovernanceClient, wanted: string): Promise<PolicyInfo> {
  const all = await client.listPolicies();
  const policy = all.find((p) => p.key === wanted || (p.id !== undefined && String(p.id) === wanted));
  if (!policy) {
    throw new NotFoundError(`no policy "${wanted}"`, { hint: `known policies: ${all.map(label).join(', ') || 'none'}` });
  }
  return policy;
}

function renderPolicy(app: CliApp, p: PolicyInfo): string {
  const s = app.style;
  return renderKeyValues(
    [
      ['key', p.key],
      ['id', p.id === undefined ? undefined : String(p.id)],
      ['name', p.name],
      ['enabled', styled(p.enabled ? s.green('yes') : s.red('no'))],
      ['value', p.value === undefined ? undefined : JSON.stringify(p.value)],
      ['violations', p.violations_count],
      ['description', p.description],
    ],
    s,
  );
}

export async function listPoliciesCommand(app: CliApp): Promise<number> {
  const { client } = await app.client('admin');
  const policies = await client.listPolicies();
  if (app.json) {
    app.printJson(policies);
  } else {
    const s = app.style;
    app.print(
      renderTable(
        ['KEY', 'ENABLED', 'VALUE', 'VIOLATIONS', 'NAME'],
        policies.map((p) => [label(p), styled(p.enabled ? s.green('yes') : s.red('no')), p.value === undefined ? '-' : JSON.stringify(p.value), p.violations_count ?? '-', p.name ?? '-']),
        s,
      ),
    );
  }
  return ExitCode.ok;
}

export async function getPolicyCommand(app: CliApp, wanted: string): Promise<number> {
  const { client } = await app.client('admin');
  const policy = await findPolicy(client, wanted);
  if (app.json) app.printJson(policy);
  else app.print(renderPolicy(app, policy));
  return ExitCode.ok;
}

export async function setPolicyCommand(app: CliApp, wanted: string, changes: { enabled?: boolean; value?: unknown }): Promise<number> {
  const { client } = await app.client('admin');
  const policy = await findPolicy(client, wanted);
  const updated = await client.updatePolicy(policy.id !== undefined ? String(policy.id) : label(policy), changes);
  if (app.json) {
    app.printJson(updated);
  } else {
    const what = changes.enabled === undefined ? `value set to ${JSON.stringify(changes.value)}` : changes.enabled ? 'enabled' : 'disabled';
    app.print(`policy ${label(policy)} ${what}; in force for the next decision`);
  }
  return ExitCode.ok;
}
