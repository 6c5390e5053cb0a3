import type { ApiKeyInfo } from '../../client/shapes.js';
import { ExitCode, NotFoundError, OperationFailedError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { cancelled, confirm, dryRun, type DestructiveFlags } from '../confirm.js';
import { renderTable, styled, type Cell } from '../render/output.js';
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

export async function createKeyCommand(app: CliApp, flags: KeyCreateFlags): Promise<number> {
  const { client } = await adminClient(app);
  const created = await client.createKey({ name: flags.name, role: flags.role, ...(flags.customer ? { customerId: flags.customer } : {}) });
  if (app.json) {
    app.printJson({ key_id: created.key_id, name: created.name, role: created.role, created_at: created.created_at, api_key: created.api_key });
  } else {
    app.print(`Created ${shown(created.role)} key "${shown(created.name)}" (${shown(created.key_id)}).\n\n  ${visible(created.api_key)}\n`);
  }
  app.warn(SHOWN_ONCE);
  return ExitCode.ok;
}

export async function listKeysCommand(app: CliApp, flags: KeyListFlags): Promise<number> {
  const { client } = await adminClient(app);
  const all = await client.listKeys();
  // A key whose state the server did not say is shown, not hidden as if inactive.
  const keys = flags.all ? all : all.filter((k) => k.active !== false);
  if (app.json) {
    app.printJson(keys);
    return ExitCode.ok;
  }
  if (keys.length === 0) {
    app.print(all.length === 0 ? 'no API keys' : `no active API keys (${all.length} inactive; --all shows them)`);
    return ExitCode.ok;
  }
  const s = app.style;
  app.print(
    renderTable(
      ['NAME', 'KEY ID', 'ROLE', 'ACTIVE', 'CREATED', 'LAST USED', 'REQUESTS'],
      keys.map((k) => [k.name, k.key_id, k.role, yesNo(app, k.active), shortTime(k.created_at), shortTime(k.last_used), k.requests_count]),
      s,
    ),
  );
  if (!flags.all && all.length > keys.length) app.info(`${all.length - keys.length} inactive key(s) hidden; --all shows them`);
  return ExitCode.ok;
}

async function findKey(app: CliApp, keyId: string): Promise<{ key: ApiKeyInfo; client: Awaited<ReturnType<CliApp['client']>>['client'] }> {
  const { client } = await adminClient(app);
  const key = (await client.listKeys()).find((k) => k.key_id === keyId);
  if (!key) throw new NotFoundError(`no API key with id ${visible(keyId)}`, { hint: 'govctl keys list --all shows every key id' });
  return { key, client };
}

export async function rotateKeyCommand(app: CliApp, keyId: string, flags: DestructiveFlags): Promise<number> {
  const { key, client } = await findKey(app, keyId);
  const name = shown(key.name);
  if (key.active === false) throw new OperationFailedError(`key "${name}" (${visible(keyId)}) is inactive; only an active key can be rotated`);
  const what = `rotate key "${name}" (${visible(keyId)})`;
  if (flags.dryRun) return dryRun(app, what, { action: 'rotate', key_id: keyId, name: key.name });
  if (!(await confirm(app, what, flags, 'its current token stops working at once'))) return cancelled(app);
  const rotated = await client.rotateKey(keyId);
  if (app.json) app.printJson({ old_key_id: rotated.old_key_id, key_id: rotated.key_id, name: key.name, api_key: rotated.api_key });
  else app.print(`Rotated key "${name}": ${visible(rotated.old_key_id)} is inactive; the new key is ${shown(rotated.key_id)}.\n\n  ${visible(rotated.api_key)}\n`);
  app.warn(SHOWN_ONCE);
  return ExitCode.ok;
}

export async function revokeKeyCommand(app: CliApp, keyId: string, flags: DestructiveFlags): Promise<number> {
  const { key, client } = await findKey(app, keyId);
  const name = shown(key.name);
  if (key.active === false) {
    if (app.json) app.printJson({ key_id: keyId, name: key.name, status: 'already_revoked' });
    else app.print(`key "${name}" (${visible(keyId)}) is already inactive; nothing to do`);
    return ExitCode.ok;
  }
  const what = `revoke key "${name}" (${visible(keyId)})`;
  if (flags.dryRun) return dryRun(app, what, { action: 'revoke', key_id: keyId, name: key.name });
  if (!(await confirm(app, what, flags, 'requests with it will be refused'))) return cancelled(app);
  await client.revokeKey(keyId);
  if (app.json) app.printJson({ key_id: keyId, name: key.name, status: 'revoked' });
  else app.print(`revoked key "${name}" (${visible(keyId)})`);
  return ExitCode.ok;
}

/** Server text for a message line: escaped, and "-" where the server said nothing. */
function shown(text: string | null): string {
  return text === null ? '-' : visible(text);
}

function yesNo(app: CliApp, value: boolean | null): Cell {
  if (value === null) return null;
  return styled(value ? app.style.green('yes') : app.style.red('no'));
}
