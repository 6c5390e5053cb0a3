import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { parseApiToken } from '../core/api-token.js';
import { ServerErrors } from './errors.js';
import type { Role } from './store/keys.js';
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
  return function authenticate(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    try {
      admit(state, role, request);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}

/** Throws the contract's 401/403 unless the request carries an active key of at least `role`. */
function admit(state: ServerState, role: Role, request: FastifyRequest): void {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '') throw ServerErrors.missingApiKey();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw ServerErrors.invalidApiKeyFormat();
  const parsed = parseApiToken(match[1]!);
  if (!parsed) throw ServerErrors.invalidApiKeyFormat();
  const { row, secretOk } = state.keys.verify(parsed.keyId, parsed.secret);
  if (!row || !secretOk) throw ServerErrors.invalidApiKey();
  if (row.active !== 1) throw ServerErrors.apiKeyInactive();
  if (role === 'admin' && row.role !== 'admin') throw ServerErrors.adminRequired();
  request.apiKey = { keyId: row.key_id, name: row.name, role: row.role, customerId: row.customer_id };
  state.writer.recordKeyUse(row.key_id, new Date().toISOString());
}

