import { performance } from 'node:perf_hooks';
import { parseServerUrl } from '../client/transport.js';
import { createConnection, type LeanHttpConnection } from '../load/http/connection.js';
import { serializeRequest } from '../load/http/request-bytes.js';
import type { ErrorClass, RawResponse } from '../load/types.js';
import type { BackgroundTraffic, TrafficRecord } from './types.js';

/**
 * Background traffic for chaos: POST /v1/check at a modest fixed rate over the load engine's
 * lean request path, recording every decision the server acknowledged with a 200 (with its
 * decision_id and wall time), so a probe can later look each one up in the usage log. Open
 * model: a request is due on schedule whether or not the earlier ones were answered; when every
 * connection is busy it is skipped (counted as the error "skipped"), never queued.
 */

export interface TrafficOptions {
  /** The server URL (credentials in it are dropped). */
  url: string;
  /** A user key for /v1/check. */
  token: string;
  /** Requests per second (default 20). */
  ratePerSecond?: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Stops sending (requests in flight still finish; stop() returns the record). */
  signal?: AbortSignal;
  /** Keep-alive connections (default 4): at most this many requests in flight. */
  connections?: number;
  rejectUnauthorized?: boolean;
  ca?: string;
  /** Told of each request's end, once it is recorded: its status, or its error class ("skipped" too). */
  onAnswer?: (answer: { status: number | null; error?: string }) => void;
}

export const DEFAULT_TRAFFIC_RATE = 20;
const DEFAULT_CONNECTIONS = 4;
/** How long stop() waits beyond the request timeout for answers still in flight. */
const STOP_SLACK_MS = 1_000;

/** The pieces of a lean request to one server: connections to it and request bytes for it. */
export interface LeanTarget {
  url: URL;
  connect(timeoutMs: number): LeanHttpConnection;
  /** Pre-serialised bytes of `method path` (relative to the URL's base path). */
  bytes(method: string, path: string, headers: Record<string, string>, body?: unknown): Buffer;
}

export function leanTarget(url: string | URL, tls: { rejectUnauthorized?: boolean; ca?: string } = {}): LeanTarget {
  const base = parseServerUrl(typeof url === 'string' ? url : url.href).url;
  const basePath = base.pathname.replace(/\/+$/, '');
  return {
    url: base,
    connect: (timeoutMs) =>
      createConnection({
        url: base,
        timeoutMs,
        ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
        ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      }),
    bytes: (method, path, headers, body) =>
      serializeRequest({
        method,
        path: `${basePath}${path}`,
        host: base.host,
        headers: { accept: 'application/json', ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
  };
}

/** The /v1/check request chaos sends: no metadata flags, so the reference server allows it. */
export function checkRequestBytes(target: LeanTarget, token: string, operation: string): Buffer {
  return target.bytes('POST', '/v1/check', { authorization: `Bearer ${token}` }, { model: 'govctl-chaos', operation });
}

/** The decision_id of a 200's JSON body, or undefined when it has none (or is not JSON). */
export function decisionIdOf(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const id = (JSON.parse(body.toString('utf8')) as { decision_id?: unknown } | null)?.decision_id;
    return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

/** The error class of an answered request that was not a 200. */
export function statusErrorClass(status: number): string {
  if (status === 429) return 'throttled';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'unexpected_4xx';
  return 'unexpected_status';
}

export function startTraffic(options: TrafficOptions): BackgroundTraffic {
  const rate = options.ratePerSecond ?? DEFAULT_TRAFFIC_RATE;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`traffic rate must be a positive number (got ${rate})`);
  const target = leanTarget(options.url, options);
  const bytes = checkRequestBytes(target, options.token, 'chaos-background');
  const connections = Array.from({ length: Math.max(1, options.connections ?? DEFAULT_CONNECTIONS) }, () => target.connect(options.timeoutMs));

  const record: TrafficRecord = { sent: 0, acknowledged: 0, decisions: [], acknowledged_without_id: 0, errors: {}, statuses: {} };
  const count = (into: Record<string, number>, key: string) => {
    into[key] = (into[key] ?? 0) + 1;
  };
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  const answered = (error: ErrorClass | undefined, response: RawResponse | undefined): void => {
    inFlight--;
    let errorClass: string | undefined;
    if (error !== undefined || response === undefined) count(record.errors, (errorClass = error ?? 'other'));
    else {
      count(record.statuses, String(response.status));
      if (response.status === 200) {
        record.acknowledged++;
        const id = decisionIdOf(response.body);
        if (id === undefined) record.acknowledged_without_id++;
        else record.decisions.push({ id, t: Date.now() });
      } else count(record.errors, (errorClass = statusErrorClass(response.status)));
    }
    tell(response?.status ?? null, errorClass);
    if (inFlight === 0) onIdle?.();
  };
  const tell = (status: number | null, error: string | undefined): void => {
    try {
      options.onAnswer?.(error === undefined ? { status } : { status, error });
    } catch {
      // A listener must not break the sender.
    }
  };

  const send = (): void => {
    const idle = connections.find((c) => !c.busy);
    if (idle === undefined) {
      count(record.errors, 'skipped');
      tell(null, 'skipped');
      return;
    }
    record.sent++;
    inFlight++;
    idle.request(bytes, true, answered);
  };

  // The schedule: request i is due at startedAt + i / rate. A late timer sends what came due.
  const periodMs = 1000 / rate;
  const startedAt = performance.now();
  let scheduled = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    const due = Math.floor((performance.now() - startedAt) / periodMs) + 1;
    while (scheduled < due) {
      scheduled++;
      send();
    }
    timer = setTimeout(tick, Math.max(0, startedAt + scheduled * periodMs - performance.now()));
  };
  const halt = (): void => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  options.signal?.addEventListener('abort', halt, { once: true });
  if (options.signal?.aborted) halt();
  else tick();

  const snapshot = (): TrafficRecord => ({
    ...record,
    decisions: record.decisions.slice(),
    errors: { ...record.errors },
    statuses: { ...record.statuses },
  });

  let stopping: Promise<TrafficRecord> | undefined;
  return {
    snapshot,
    stop() {
      stopping ??= (async () => {
        halt();
        options.signal?.removeEventListener('abort', halt);
        if (inFlight > 0) {
          // Every request ends by its own timeout; the slack only guards against a lost callback.
          let guard: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            onIdle = resolve;
            guard = setTimeout(resolve, options.timeoutMs + STOP_SLACK_MS);
          });
          clearTimeout(guard);
        }
        for (const c of connections) c.close();
        return snapshot();
      })();
      return stopping;
    },
  };
}
