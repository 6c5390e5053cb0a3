import type { GovernanceClient } from '../../client/governance-client.js';
import type { PolicyInfo } from '../../client/shapes.js';
import { ExitCode, InvalidInputError, NotFoundError } from '../../core/errors.js';
import { expectedPolicyValue, policyValueProblem } from '../../core/policy-values.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, renderTable, styled, type Cell, type TableOptions } from '../render/output.js';
import { renderValue } from '../render/units.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export interface PolicyChanges {
  enabled?: boolean;
  value?: unknown;
}

export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(`--value is not valid JSON: ${(err as Error).message}`, {
      hint: `quote it for your shell, e.g. --value '{"max": 60}'`,
    });
  }
}

/** Tables fit the terminal, except with -o wide (or when the width is unknown: pipes, files). */
function tableOptions(app: CliApp): TableOptions {
  return app.globals.output === 'wide' || app.io.columns === undefined ? {} : { width: app.io.columns };
}

/** How a policy is named to the user: its key, else its id (field servers), escaped. */
const label = (p: PolicyInfo): string => visible(p.key ?? (p.id === null ? '-' : String(p.id)));

function enabledCell(app: CliApp, enabled: boolean | null | undefined): Cell {
  if (enabled === null || enabled === undefined) return null;
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
  return renderKeyValues(
    [
      ['key', p.key],
      ['id', p.id === null ? null : String(p.id)],
      ['name', p.name],
      ['enabled', enabledCell(app, p.enabled)],
      ['value', renderValue(p.value)],
      ['violations', p.violations_count],
      ['description', p.description],
    ],
    app.style,
    tableOptions(app),
  );
}

export async function listPoliciesCommand(app: CliApp): Promise<number> {
  const { client } = await adminClient(app);
  const policies = await client.listPolicies();
  if (app.json) {
    app.printAdminJson(client.url, policies, 'policies');
    return ExitCode.ok;
  }
  app.print(
    renderTable(
      ['KEY', 'ENABLED', 'VALUE', 'VIOLATIONS', 'NAME'],
      policies.map((p) => [p.key ?? (p.id === null ? null : String(p.id)), enabledCell(app, p.enabled), renderValue(p.value), p.violations_count, p.name]),
      app.style,
      tableOptions(app),
    ),
  );
  return ExitCode.ok;
}

export async function getPolicyCommand(app: CliApp, wanted: string): Promise<number> {
  const { client } = await adminClient(app);
  const policy = await findPolicy(client, wanted);
  if (app.json) app.printAdminJson(client.url, policy);
  else app.print(renderPolicy(app, policy));
  return ExitCode.ok;
}

/** The two fields a change touches, before and after. */
type Side = { enabled: boolean | null; value: unknown };

function beforeAfterTable(app: CliApp, before: Side, after: Side): string {
  return renderTable(
    ['FIELD', 'BEFORE', 'AFTER'],
    [
      ['enabled', enabledCell(app, before.enabled), enabledCell(app, after.enabled)],
      ['value', renderValue(before.value), renderValue(after.value)],
    ],
    app.style,
    tableOptions(app),
  );
}

/**
 * Refuses a value the policy's shape does not allow before anything is sent, so that --dry-run
 * never shows an "after" the server would refuse (the server checks the same rules: 422).
 */
function checkValue(policy: PolicyInfo, value: unknown): void {
  if (policy.key === null) return;
  const problem = policyValueProblem(policy.key, value);
  if (!problem) return;
  const where = problem.path.length === 0 ? '--value' : `--value at ${['$', ...problem.path].join('.')}`;
  throw new InvalidInputError(`${where}: ${problem.message}`, { hint: EXAMPLE_VALUES[policy.key] ?? `${policy.key} takes ${expectedPolicyValue(policy.key) ?? 'any JSON value'}` });
}

/** A working example for each built-in policy's value, for the hint of a refused one. */
const EXAMPLE_VALUES: Record<string, string> = {
  max_risk_score: `e.g. --value '{"max": 60}'`,
  block_personal_data: 'it takes no value: use policies enable|disable block_personal_data',
  block_external_models: 'it takes no value: use policies enable|disable block_external_models',
};

export async function setPolicyCommand(app: CliApp, wanted: string, changes: PolicyChanges, flags: { dryRun?: boolean } = {}): Promise<number> {
  const { client } = await adminClient(app);
  const policy = await findPolicy(client, wanted);
  const ref = policy.id !== null ? String(policy.id) : policy.key;
  if (ref === null) throw new NotFoundError(`policy "${visible(wanted)}" has neither an id nor a key the server can be asked about`);
  if ('value' in changes) checkValue(policy, changes.value);
  const before: Side = { enabled: policy.enabled, value: policy.value ?? null };
  if (flags.dryRun) {
    const after: Side = { enabled: changes.enabled ?? before.enabled, value: 'value' in changes ? changes.value : before.value };
    if (app.json) app.printAdminJson(client.url, { dry_run: true, policy: policy.key ?? policy.id, before, after });
    else app.print(`dry run: policy ${label(policy)} would change as below; nothing was changed\n\n${beforeAfterTable(app, before, after)}`);
    return ExitCode.ok;
  }
  const updated = await client.updatePolicy(ref, changes);
  const after: Side = { enabled: updated.enabled, value: updated.value ?? null };
  if (app.json) {
    app.printAdminJson(client.url, { ...updated, before });
  } else {
    app.print(`policy ${label(policy)} updated; in force for the next decision\n\n${beforeAfterTable(app, before, after)}`);
  }
  return ExitCode.ok;
}
