import { isIPv4, isIPv6 } from 'node:net';
import { GovernanceClient } from '../../client/governance-client.js';
import { parseServerUrl, DEFAULT_TIMEOUT_MS, type ConnectionSettings } from '../../client/transport.js';
import { parseApiToken } from '../../core/api-token.js';
import { UnreachableError, UsageError, messageOf } from '../../core/errors.js';
import type { ApiProbeResult, StepContext } from '../types.js';
import { probeAuthentication, probeDefaultCredentials, probeUserKeyOnAdmin } from './probes/auth.js';
import { probeCors } from './probes/cors.js';
import { probeForbiddenContent, probeMalformedInput } from './probes/input.js';
import { probeMetrics } from './probes/metrics.js';
import { checkDeviations, checkLeaks, checkSecurityHeaders, checkTransport } from './probes/passive.js';
import { probeRateLimit } from './probes/rate-limit.js';
import { BudgetExhaustedError, Requester } from './requester.js';
import { bearer, isSuccess, json, outcome, type ProbeRun } from './run.js';

export interface ApiProbeOptions extends StepContext {
  url: string;
  /** Admin token, when known: enables the probes that need a user key (creates one, revokes it at the end, also on failure/abort). */
  adminToken?: string;
  /** Probing a non-loopback host needs this (the cli's --allow-remote). */
  allowRemote?: boolean;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** TLS, as the client's ConnectionSettings. */
  caCert?: string;
  insecure?: boolean;
  /** Hard budget of requests, every one counted (default 300). */
  maxRequests?: number;
}

export const DEFAULT_MAX_REQUESTS = 300;

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: where probing needs no --allow-remote. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(h);
  return false;
}

/** The probes that send requests, in order: the user-key probes last, rate limiting at the very end. */
const ACTIVE: ReadonlyArray<{ id: string; title: string; run: (run: ProbeRun, state: { adminOpen: boolean }) => Promise<unknown> }> = [
  { id: 'cors-restricted', title: 'CORS does not trust arbitrary origins', run: (r) => probeCors(r) },
  { id: 'metrics-prometheus-text', title: '/metrics is Prometheus text', run: (r) => probeMetrics(r) },
  {
    id: 'auth-required',
    title: 'protected endpoints refuse missing and malformed keys with 401',
    run: async (r, s) => {
      s.adminOpen = (await probeAuthentication(r)).adminOpen;
    },
  },
  { id: 'default-credentials-refused', title: 'well-known default admin credentials are refused', run: (r, s) => probeDefaultCredentials(r, s.adminOpen) },
  { id: 'admin-requires-admin-role', title: 'a user key on an admin route gets 403', run: (r) => probeUserKeyOnAdmin(r) },
  { id: 'forbidden-content-rejected', title: 'forbidden content fields are rejected', run: (r) => probeForbiddenContent(r) },
  { id: 'malformed-input-4xx', title: 'malformed input gets 4xx, not 5xx', run: (r) => probeMalformedInput(r) },
  { id: 'rate-limit-engages', title: 'rate limiting engages (429 with Retry-After)', run: (r) => probeRateLimit(r) },
];

/**
 * Security probes of a live governance server (`govctl audit --api`). Bounded (maxRequests,
 * every request counted), loopback only unless allowed. With the admin token, a temporary
 * user key is created for the probes that need one and revoked at the end, also on failure and
 * on abort. On abort it returns what was found so far with `partial: true`.
 */
export async function probeApi(options: ApiProbeOptions): Promise<ApiProbeResult> {
  const server = parseServerUrl(options.url);
  const loopback = isLoopbackHost(server.url.hostname);
  if (!loopback && options.allowRemote !== true) {
    throw new UsageError(`refusing to probe ${server.url.host}: it is not a loopback host`, {
      hint: 'pass --allow-remote to probe a remote server (only one you are allowed to test)',
    });
  }
  const budget = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
  if (!Number.isSafeInteger(budget) || budget < 1) throw new UsageError(`the request budget must be a positive integer, got ${budget}`);
  const settings: ConnectionSettings = {
    baseUrl: server.url.href,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.adminToken !== undefined ? { adminKey: options.adminToken } : {}),
    ...(options.caCert !== undefined ? { caCert: options.caCert } : {}),
    ...(options.insecure !== undefined ? { insecure: options.insecure } : {}),
  };
  const req = new Requester(server.url, settings, budget, options.signal);
  const client = new GovernanceClient({ ...settings, retry: { retries: 0 }, ...(options.signal ? { signal: options.signal } : {}) });
  const emit = (type: 'progress' | 'warning', message: string) => options.onEvent?.({ type, step: 'api', message });
  const run: ProbeRun = {
    req,
    fingerprintKey: options.fingerprintKey,
    secrets: options.adminToken ? [options.adminToken] : [],
    https: server.url.protocol === 'https:',
    loopback,
    findings: [],
    outcomes: [],
    progress: (message) => emit('progress', message),
  };
  if (options.adminToken !== undefined) {
    run.adminToken = options.adminToken;
    const keyId = parseApiToken(options.adminToken)?.keyId;
    if (keyId !== undefined) run.knownKeyId = keyId;
  }
  let created: { keyId: string } | undefined;
  let partial = false;
  let failure: { err: unknown } | undefined;
  try {
    // The first request decides whether the server is there at all (UnreachableError, exit 3).
    req.take();
    await client.health().catch((err: unknown) => {
      if (err instanceof UnreachableError || options.signal?.aborted) throw err;
      emit('warning', `GET /health: ${messageOf(err)}; probing anyway`);
    });
    created = await createUserKey(run, emit);
    const state = { adminOpen: false };
    let exhausted = false;
    for (const probe of ACTIVE) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      if (exhausted) {
        outcome(run, probe.id, probe.title, 'skipped', `request budget of ${budget} exhausted`);
        continue;
      }
      try {
        await probe.run(run, state);
      } catch (err) {
        if (!(err instanceof BudgetExhaustedError)) throw err;
        exhausted = true;
        emit('warning', `the request budget of ${budget} is exhausted: the remaining probes are skipped`);
        outcome(run, probe.id, probe.title, 'skipped', `request budget of ${budget} exhausted`);
      }
    }
  } catch (err) {
    if (!options.signal?.aborted) failure = { err };
    else {
      partial = true;
      emit('warning', 'interrupted: reporting what the probes found so far');
    }
  }
  // Cleanup runs whatever happened: success, failure or abort.
  await revoke(run, created, settings, emit);
  await Promise.all([req.close(), client.close()]);
  if (failure) throw failure.err;
  // The passive checks cost no request: they read every answer the probes got.
  checkLeaks(run);
  checkSecurityHeaders(run);
  checkTransport(run);
  checkDeviations(run, client.deviations);
  return {
    findings: run.findings,
    summary: { url: server.display, requests: req.requests, probes: run.outcomes },
    ...(partial ? { partial: true } : {}),
  };
}

const USER_KEY = { id: 'temporary-user-key', title: 'a temporary user key is created for the probes and revoked after' };

/**
 * Creates the user key the user-key probes need, keeping one request back to revoke it. Sent
 * raw (not through the client), so the key-bearing answer's headers reach the header checks.
 */
async function createUserKey(run: ProbeRun, emit: (type: 'warning', message: string) => void): Promise<{ keyId: string } | undefined> {
  if (run.adminToken === undefined) {
    outcome(run, USER_KEY.id, USER_KEY.title, 'skipped', 'no admin token: the probes that need a user key are skipped');
    return undefined;
  }
  if (run.req.remaining < 2) {
    outcome(run, USER_KEY.id, USER_KEY.title, 'skipped', 'request budget too small');
    return undefined;
  }
  const body = JSON.stringify({ name: 'govctl-audit-probe', role: 'user' });
  const e = await run.req.send({ method: 'POST', path: '/api/admin/keys', headers: { ...bearer(run.adminToken), ...json }, body, bodyNote: `JSON ${body}` });
  const answer = (typeof e.text === 'string' ? safeJson(e.text) : undefined) as Record<string, unknown> | undefined;
  const token = answer?.['api_key'];
  if (!isSuccess(e) || typeof token !== 'string' || token === '') {
    const why = e.status === undefined ? `no answer (${e.error})` : `answered ${e.status}${typeof token === 'string' ? '' : ' without an api_key'}`;
    outcome(run, USER_KEY.id, USER_KEY.title, 'failed', `POST /api/admin/keys ${why}: the probes that need a user key are skipped`);
    emit('warning', `could not create a temporary user key: POST /api/admin/keys ${why}`);
    return undefined;
  }
  run.secrets.push(token);
  run.req.reserve(1);
  const parsed = parseApiToken(token);
  const keyId = typeof answer?.['key_id'] === 'string' ? (answer['key_id'] as string) : parsed?.keyId;
  if (answer?.['role'] === 'user') {
    run.userToken = token;
    if (parsed) run.knownKeyId = parsed.keyId;
  } else {
    emit('warning', `the server did not confirm the temporary key's role as "user" (role: ${String(answer?.['role'])}); the user-key probes are skipped`);
  }
  if (keyId === undefined) emit('warning', 'the server answered the new key without a key id: it cannot be revoked automatically');
  return keyId === undefined ? undefined : { keyId };
}

/** Revokes the temporary key, with its own client: the run's may be aborted. A failure is said, never thrown. */
async function revoke(
  run: ProbeRun,
  created: { keyId: string } | undefined,
  settings: ConnectionSettings,
  emit: (type: 'warning', message: string) => void,
): Promise<void> {
  if (created === undefined) return;
  const client = new GovernanceClient({ ...settings, retry: { retries: 0 } });
  try {
    run.req.take(true);
    await client.revokeKey(created.keyId);
    outcome(run, USER_KEY.id, USER_KEY.title, 'passed', `key ${created.keyId} revoked`);
  } catch (err) {
    outcome(run, USER_KEY.id, USER_KEY.title, 'failed', `revoking key ${created.keyId} failed: ${messageOf(err)}`);
    emit('warning', `could not revoke the temporary key ${created.keyId}: ${messageOf(err)}; revoke it with govctl keys revoke ${created.keyId}`);
  } finally {
    await client.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
