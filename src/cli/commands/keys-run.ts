import type { ApiKeyInfo } from '../../client/shapes.js';
import { ExitCode, NotFoundError, OperationFailedError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { cancelled, confirm, dryRun, type DestructiveFlags } from '../confirm.js';
import { renderTable, styled } from '../render/output.js';
import { shortTime } from '../render/time.js';

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
  const { client } = await app.client('admin');
  const created = await client.createKey({ name: flags.name, role: flags.role, ...(flags.customer ? { customerId: flags.customer } : {}) });
  if (app.json) {
    app.printJson({ key_id: created.key_id, name: created.name, role: created.role, created_at: created.created_at ?? null, api_key: created.api_key });
  } else {
    app.print(`Created ${created.role} key "${created.name}" (${created.key_id}).\n\n  ${created.api_key}\n`);
  }
  app.warn(SHOWN_ONCE);
  return ExitCode.ok;
}

export async function listKeysCommand(app: CliApp, flags: KeyListFlags): Promise<number> {
  const { client } = await app.client('admin');
  const all = await client.listKeys();
  const keys = flags.all ? all : all.filter((k) => k.active);
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
      keys.map((k) => [k.name, k.key_id, k.role, styled(k.active ? s.green('yes') : s.red('no')), shortTime(k.created_at), shortTime(k.last_used), k.requests_count ?? '-']),
      s,
    ),
  );
  if (!flags.all && all.length > keys.length) app.info(`${all.length - keys.length} inactive key(s) hidden; --all shows them`);
  return ExitCode.ok;
}

async function findKey(app: CliApp, keyId: string): Promise<{ key: ApiKeyInfo; client: Awaited<ReturnType<CliApp['client']>>['client'] }> {
  const { client } = await app.client('admin');
  const key = (await client.listKeys()).find((k) => k.key_id === keyId);
  if (!key) throw new NotFoundError(`no API key with id ${keyId}`, { hint: 'govctl keys list --all shows every key id' });
  return { key, client };
}

export async function rotateKeyCommand(app: CliApp, keyId: string, flags: DestructiveFlags): Promise<number> {
  const { key, client } = await findKey(app, keyId);
  if (!key.active) throw new OperationFailedError(`key "${key.name}" (${keyId}) is inactive; only an active key can be rotated`);
  const what = `rotate key "${key.name}" (${keyId})`;
  if (flags.dryRun) return dryRun(app, what, { action: 'rotate', key_id: keyId, name: key.name });
  if (!(await confirm(app, what, flags, 'its current token stops working at once'))) return cancelled(app);
  const rotated = await client.rotateKey(keyId);
  if (app.json) app.printJson({ old_key_id: rotated.old_key_id, key_id: rotated.key_id, name: key.name, api_key: rotated.api_key });
  else app.print(`Rotated key "${key.name}": ${rotated.old_key_id} is inactive; the new key is ${rotated.key_id}.\n\n  ${rotated.api_key}\n`);
  app.warn(SHOWN_ONCE);
  return ExitCode.ok;
}

export async function revokeKeyCommand(app: CliApp, keyId: string, flags: DestructiveFlags): Promise<number> {
  const { key, client } = await findKey(app, keyId);
  if (!key.active) {
    if (app.json) app.printJson({ key_id: keyId, name: key.name, status: 'already_revoked' });
    else app.print(`key "${key.name}" (${keyId}) is already inactive; nothing to do`);
    return ExitCode.ok;
  }
  const what = `revoke key "${key.name}" (${keyId})`;
  if (flags.dryRun) return dryRun(app, what, { action: 'revoke', key_id: keyId, name: key.name });
  if (!(await confirm(app, what, flags, 'requests with it will be refused'))) return cancelled(app);
  await client.revokeKey(keyId);
  if (app.json) app.printJson({ key_id: keyId, name: key.name, status: 'revoked' });
  else app.print(`revoked key "${key.name}" (${keyId})`);
  return ExitCode.ok;
}
