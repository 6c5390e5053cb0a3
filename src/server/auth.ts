import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { parseApiToken } from '../core/api-token.js';
import { ServerErrors } from './errors.js';
import { isoNow } from './iso-now.js';
import type { ApiKeyRow, Role } from './store/keys.js';
import type { ServerState } from './store/state.js';

export interface AuthenticatedKey {
  keyId: string;
  name: string;
  role: Role;
  customerId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: AuthenticatedKey;
  }
}

/**
 * The onRequest hook that admits a request only with an active key of at least `role`. A
 * callback hook, not an async one: it is on every decision's path and does no I/O.
 */
export function requireKey(state: ServerState, role: Role) {
  return function admit(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    try {
      request.apiKey = authenticate(state, role, request.headers.authorization);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}

/**
 * The active key of at least `role` that an Authorization header carries, its use counted; else
 * throws the contract's 401/403.
 */
export function authenticate(state: ServerState, role: Role, header: string | undefined): AuthenticatedKey {
  if (header === undefined || header.trim() === '') throw ServerErrors.missingApiKey();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw ServerErrors.invalidApiKeyFormat();
  const parsed = parseApiToken(match[1]!);
  if (!parsed) throw ServerErrors.invalidApiKeyFormat();
  const { row, secretOk } = state.keys.verify(parsed.keyId, parsed.secret);
  if (!row || !secretOk) throw ServerErrors.invalidApiKey();
  if (row.active !== 1) throw ServerErrors.apiKeyInactive();
  if (role === 'admin' && row.role !== 'admin') throw ServerErrors.adminRequired();
  state.writer.recordKeyUse(row.key_id, isoNow());
  return authenticatedKey(row);
}

/** One frozen AuthenticatedKey per cached key row (a changed key gets a new row object). */
const byRow = new WeakMap<ApiKeyRow, AuthenticatedKey>();

function authenticatedKey(row: ApiKeyRow): AuthenticatedKey {
  let key = byRow.get(row);
  if (!key) {
    key = Object.freeze({ keyId: row.key_id, name: row.name, role: row.role, customerId: row.customer_id });
    byRow.set(row, key);
  }
  return key;
}
