import type { GovernanceClient } from '../../client/governance-client.js';
import type { ApiKeyInfo } from '../../client/shapes.js';
import { ExitCode, NotFoundError, OperationFailedError, UsageError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { cancelled, confirm, type DestructiveFlags } from '../confirm.js';
import { renderTable, styled, type Cell, type TableOptions } from '../render/output.js';
import { shortTime } from '../render/time.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export interface KeyCreateFlags {
  name: string;
  role: 'user' | 'admin';
  customer?: string;
}

export interface KeyListFlags {
  all?: boolean;
}

const SHOWN_ONCE = 'This token is shown once and cannot be retrieved again: store it now (e.g. in your secret manager).';

/** Tables fit the terminal, except with -o wide (or when the width is unknown: pipes, files). */
function tableOptions(app: CliApp): TableOptions {
  return app.globals.output === 'wide' || app.io.columns === undefined ? {} : { width: app.io.columns };
}

/**
 * The key id of the admin key this command authenticates with: the part of the token before its
 * last dot. Null for a static shared admin key (no dot) or none.
 */
export function keyIdOfToken(token: string | undefined): string | null {
  if (token === undefined) return null;
  const dot = token.lastIndexOf('.');
  return dot > 0 ? token.slice(0, dot) : null;
}

/**
 * A key's status: the server's `status` (reference-server extension: active, revoked, rotated),
 * else what `active` says ("inactive" when a field server cannot tell revoked from rotated).
 */
export function statusOf(key: ApiKeyInfo): string | null {
  if (typeof key.status === 'string') return key.status;
  if (key.active === null) return null;
  return key.active ? 'active' : 'inactive';
}

const isActive = (k: ApiKeyInfo): boolean => k.active !== false;

export async function createKeyCommand(app: CliApp, flags: KeyCreateFlags): Promise<number> {
  const { client } = await adminClient(app);
  const created = await client.createKey({ name: flags.name, role: flags.role, ...(flags.customer ? { customerId: flags.customer } : {}) });
  if (app.json) {
    app.printAdminJson(client.url, { key_id: created.key_id, name: created.name, role: created.role, created_at: created.created_at, api_key: created.api_key });
  } else if (app.globals.quiet) {
    app.print(visible(created.api_key));
  } else {
    app.print(`Created ${shown(created.role)} key "${shown(created.name)}" (${shown(created.key_id)}).\n\n  ${visible(created.api_key)}\n`);
  }
  app.warn(SHOWN_ONCE);
  return ExitCode.ok;
}

export async function listKeysCommand(app: CliApp, flags: KeyListFlags): Promise<number> {
  const { client, target } = await adminClient(app);
  const all = await client.listKeys();
  // A key whose state the server did not say is shown, not hidden as if inactive.
  const keys = flags.all ? all : all.filter(isActive);
  if (app.json) {
    app.printAdminJson(client.url, keys, 'keys');
    return ExitCode.ok;
  }
  if (keys.length === 0) {
    app.print(all.length === 0 ? 'no API keys' : `no active API keys (${all.length} inactive; --all shows them)`);
    return ExitCode.ok;
  }
  const s = app.style;
  const inUse = keyIdOfToken(target.adminKey);
  app.print(
    renderTable(
      ['NAME', 'KEY ID', 'ROLE', 'STATUS', 'CUSTOMER', 'CREATED', 'LAST USED', 'REQUESTS'],
      keys.map((k) => [
        k.key_id !== null && k.key_id === inUse ? `${k.name ?? '-'} (in use)` : k.name,
        k.key_id,
        k.role,
        statusCell(app, statusOf(k)),
        k.customer_id ?? null,
        shortTime(k.created_at),
        shortTime(k.last_used),
        k.requests_count,
      ]),
      s,
      tableOptions(app),
    ),
  );
  if (!flags.all && all.length > keys.length) app.info(`${all.length - keys.length} inactive key(s) hidden; --all shows them`);
  return ExitCode.ok;
}

/**
 * The key `ref` names: a key id, else a unique name. A rotated key keeps its name, so a name
 * matching one active key and some inactive ones means the active one.
 */
export function resolveKey(all: ApiKeyInfo[], ref: string): ApiKeyInfo {
  const byId = all.find((k) => k.key_id === ref);
  if (byId) return byId;
  const named = all.filter((k) => k.name === ref);
  const active = named.filter(isActive);
  const candidates = active.length > 0 ? active : named;
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw new UsageError(`the name "${visible(ref)}" matches ${candidates.length} keys: ${candidates.map((k) => shown(k.key_id)).join(', ')}`, {
      hint: 'address the key by its id',
    });
  }
  throw new NotFoundError(`no API key with id or name "${visible(ref)}"`, { hint: 'govctl keys list --all shows every key id and name' });
}

/**
 * Why changing `key` could lock the operator out: it is the key this command authenticates
 * with, or the last active admin key. Empty when neither.
 */
function lockoutRisks(action: 'rotate' | 'revoke', key: ApiKeyInfo, all: ApiKeyInfo[], inUse: string | null): string[] {
  const risks: string[] = [];
  if (inUse !== null && key.key_id === inUse) {
    risks.push(
      action === 'revoke'
        ? 'this is the admin key govctl is authenticated with: once revoked, commands with it are refused'
        : 'this is the admin key govctl is authenticated with: its token stops working at once; put the new token in your context or GOVCTL_ADMIN_KEY',
    );
  }
  if (key.role === 'admin' && isActive(key) && !all.some((k) => k !== key && k.role === 'admin' && isActive(k))) {
    risks.push(
      action === 'revoke'
        ? 'this is the last active admin key: without it nobody can use the admin API'
        : 'this is the last active admin key: its new token, printed once, will be the only admin credential',
    );
  }
  return risks;
}

interface KeyTarget {
  key: ApiKeyInfo;
  client: GovernanceClient;
  risks: string[];
}

async function targetKey(app: CliApp, ref: string, action: 'rotate' | 'revoke'): Promise<KeyTarget> {
  const { client, target } = await adminClient(app);
  const all = await client.listKeys();
  const key = resolveKey(all, ref);
  return { key, client, risks: lockoutRisks(action, key, all, keyIdOfToken(target.adminKey)) };
}

/**
 * The guard rails of rotate and revoke: --dry-run says what would happen (and the risks); a
 * change that could lock the operator out warns and needs --yes even on a terminal, since a
 * y/N answered by habit is the mistake this guards against; others ask as usual. True to go on.
 */
async function guard(app: CliApp, client: GovernanceClient, what: string, t: KeyTarget, flags: DestructiveFlags, consequence: string, action: string): Promise<number | true> {
  for (const risk of t.risks) app.warn(risk);
  if (flags.dryRun) {
    if (app.json) app.printAdminJson(client.url, { dry_run: true, action, key_id: t.key.key_id, name: t.key.name, warnings: t.risks });
    else app.print(`dry run: would ${what}${t.risks.length > 0 ? ' (needs --yes: see the warning above)' : ''}; nothing was changed`);
    return ExitCode.ok;
  }
  if (t.risks.length > 0 && !flags.yes) {
    throw new OperationFailedError(`refusing to ${what} without --yes: confirmation declined`, {
      hint: `pass --yes if you mean it (${t.risks.length === 1 ? 'see the warning above' : 'see the warnings above'})`,
    });
  }
  if (!(await confirm(app, what, flags, consequence))) return cancelled(app);
  return true;
}

export async function rotateKeyCommand(app: CliApp, ref: string, flags: DestructiveFlags): Promise<number> {
  const t = await targetKey(app, ref, 'rotate');
  const { key, client } = t;
  const name = shown(key.name);
  const id = shown(key.key_id);
  if (!isActive(key)) throw new OperationFailedError(`key "${name}" (${id}) is ${statusOf(key) ?? 'inactive'}; only an active key can be rotated`);
  const go = await guard(app, client, `rotate key "${name}" (${id})`, t, flags, 'its current token stops working at once', 'rotate');
  if (go !== true) return go;
  const rotated = await client.rotateKey(key.key_id!);
  if (app.json) app.printAdminJson(client.url, { old_key_id: rotated.old_key_id, key_id: rotated.key_id, name: key.name, api_key: rotated.api_key });
  else if (app.globals.quiet) app.print(visible(rotated.api_key));
  else app.print(`Rotated key "${name}": ${visible(rotated.old_key_id)} is inactive; the new key is ${shown(rotated.key_id)}.\n\n  ${visible(rotated.api_key)}\n`);
  app.warn(SHOWN_ONCE);
  return ExitCode.ok;
}

export async function revokeKeyCommand(app: CliApp, ref: string, flags: DestructiveFlags): Promise<number> {
  const t = await targetKey(app, ref, 'revoke');
  const { key, client } = t;
  const name = shown(key.name);
  const id = shown(key.key_id);
  if (!isActive(key)) {
    const status = statusOf(key) ?? 'inactive';
    if (app.json) app.printAdminJson(client.url, { key_id: key.key_id, name: key.name, status: `already_${status}` });
    else app.print(`key "${name}" (${id}) is already inactive (${status}); nothing to do`);
    return ExitCode.ok;
  }
  const go = await guard(app, client, `revoke key "${name}" (${id})`, t, flags, 'requests with it will be refused', 'revoke');
  if (go !== true) return go;
  await client.revokeKey(key.key_id!);
  if (app.json) app.printAdminJson(client.url, { key_id: key.key_id, name: key.name, status: 'revoked' });
  else app.print(`revoked key "${name}" (${id})`);
  return ExitCode.ok;
}

/** Server text for a message line: escaped, and "-" where the server said nothing. */
function shown(text: string | null): string {
  return text === null ? '-' : visible(text);
}

function statusCell(app: CliApp, status: string | null): Cell {
  if (status === null) return null;
  return styled(status === 'active' ? app.style.green(status) : app.style.red(visible(status)));
}
