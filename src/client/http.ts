import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { AuthError, GovctlError, InvalidInputError, NotFoundError, OperationFailedError, ServerError, UsageError } from '../core/errors.js';
import { toUnreachable } from './network-errors.js';
import { DEFAULT_RETRY, backoffMs, isIdempotent, isRetriableStatus, retryAfterMs, type RetryPolicy } from './retry.js';

export interface HttpClientOptions {
  baseUrl: string;
  /** Sent as a bearer token on requests that ask for admin auth. */
  adminKey?: string;
  /** Response timeout in milliseconds (headers, and between body chunks). */
  timeoutMs?: number;
  /** Connect timeout in milliseconds; defaults to the response timeout. */
  connectTimeoutMs?: number;
  /** PEM of extra certificate authorities to trust. */
  caCert?: string;
  /** Skip TLS certificate verification (the cli warns loudly). */
  insecure?: boolean;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Told of each retry, so the cli can say why it waits. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown;
  /** Time to the full body of the last attempt, in milliseconds. */
  ms: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** "admin" sends the admin key; an object sends that token. */
  auth?: 'admin' | 'none' | { token: string };
  /** Retry idempotent requests on connection errors, 429 and 502/503/504 (default true). */
  retry?: boolean;
}

/** HTTP to one governance server over undici, with failures mapped to govctl's error model. */
export class HttpClient {
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly retryPolicy: RetryPolicy;

  constructor(private readonly options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new UsageError(`invalid server URL "${options.baseUrl}"`, { hint: 'use a full URL such as http://127.0.0.1:8080' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`invalid server URL "${options.baseUrl}": only http and https are supported`);
    }
    this.baseUrl = url;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    this.agent = new Agent({
      connectTimeout: options.connectTimeoutMs ?? this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: {
        rejectUnauthorized: options.insecure !== true,
        ...(options.caCert !== undefined ? { ca: options.caCert } : {}),
      },
    });
  }

  get host(): string {
    return this.baseUrl.host;
  }

  /** A request whose whole body is read (and parsed when JSON). */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    return this.withRetries(method, options, async () => {
      const started = performance.now();
      const response = await this.send(method, path, options);
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, body: parseBody(text), ms: performance.now() - started };
    });
  }

  /**
   * A request whose body the caller streams. `consume` runs only for a 2xx answer; any other
   * answer is read and returned as an HttpResponse for the caller to map.
   */
  async stream<T>(
    method: string,
    path: string,
    options: RequestOptions,
    consume: (response: Dispatcher.ResponseData) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; response: HttpResponse }> {
    const started = performance.now();
    let response: Dispatcher.ResponseData;
    try {
      response = await this.send(method, path, options);
    } catch (err) {
      throw this.mapNetworkError(err);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await response.body.text();
      return { ok: false, response: { status: response.statusCode, headers: response.headers, body: parseBody(text), ms: performance.now() - started } };
    }
    return { ok: true, value: await consume(response) };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const base = this.baseUrl.href.endsWith('/') ? this.baseUrl.href : `${this.baseUrl.href}/`;
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  private headers(options: RequestOptions): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'govctl' };
    const auth = options.auth ?? 'none';
    if (auth === 'admin') {
      if (!this.options.adminKey) {
        throw new UsageError('this command needs an admin key', {
          hint: 'set GOVCTL_ADMIN_KEY, or configure a context with --admin-key-env or --admin-key-file',
        });
      }
      headers['authorization'] = `Bearer ${this.options.adminKey}`;
    } else if (typeof auth === 'object') {
      headers['authorization'] = `Bearer ${auth.token}`;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  private send(method: string, path: string, options: RequestOptions): Promise<Dispatcher.ResponseData> {
    return request(this.url(path, options.query), {
      method: method as Dispatcher.HttpMethod,
      headers: this.headers(options),
      body: options.body === undefined ? null : JSON.stringify(options.body),
      dispatcher: this.agent,
      signal: this.options.signal ?? null,
    });
  }

  private mapNetworkError(err: unknown): unknown {
    if (err instanceof GovctlError) return err;
    return toUnreachable(err, this.host, this.timeoutMs) ?? err;
  }

  private async withRetries(method: string, options: RequestOptions, attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
    const retriable = options.retry !== false && isIdempotent(method);
    for (let n = 0; ; n++) {
      let outcome: HttpResponse | undefined;
      let failure: unknown;
      try {
        outcome = await attempt();
      } catch (err) {
        failure = this.mapNetworkError(err);
      }
      const canRetry = retriable && n < this.retryPolicy.retries && !this.options.signal?.aborted;
      if (outcome && (!canRetry || !isRetriableStatus(outcome.status))) return outcome;
      if (failure !== undefined && (!canRetry || !isTransient(failure))) throw failure;
      const after = outcome ? retryAfterMs(outcome.headers['retry-after']) : undefined;
      if (after !== undefined && after > this.retryPolicy.maxDelayMs) return outcome!;
      const delayMs = backoffMs(this.retryPolicy, n + 1, after);
      this.options.onRetry?.({
        attempt: n + 1,
        delayMs,
        reason: outcome ? `HTTP ${outcome.status}` : (failure as Error).message,
      });
      await sleep(delayMs, undefined, this.options.signal ? { signal: this.options.signal } : undefined).catch(() => undefined);
    }
  }
}

/** Refused, reset and timed-out connections may pass; DNS and TLS failures will not. */
function isTransient(err: unknown): boolean {
  if (!(err instanceof GovctlError) || err.code !== 'GOVCTL_UNREACHABLE') return false;
  return !/DNS lookup failed|TLS error/.test(err.message);
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The server's `detail`, whether a string or FastAPI's list of `{loc, msg}`. */
export function describeDetail(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d: { loc?: unknown[]; msg?: string }) =>
        Array.isArray(d?.loc) ? `${d.loc.join('.')}: ${d.msg ?? 'invalid'}` : String(d?.msg ?? JSON.stringify(d)),
      )
      .join('; ');
  }
  return undefined;
}

export interface Operation {
  /** In words, e.g. "listing API keys". */
  name: string;
  method: string;
  path: string;
  /** A collection route answering 404/405 means the server lacks it; an item route's 404 means the item is absent. */
  kind: 'collection' | 'item';
}

export class UnsupportedOperationError extends GovctlError {
  constructor(message: string) {
    super('GOVCTL_UNSUPPORTED', 1, message, { hint: 'this server implements a subset of the governance API' });
  }
}

/** Throws the govctl error that an unsuccessful answer to `op` means. */
export function failFor(op: Operation, response: HttpResponse, host: string): never {
  const detail = describeDetail(response.body);
  const said = detail ? `: ${detail}` : '';
  const route = `${op.method} ${op.path}`;
  // A framework's own 404 ("Not Found") means no such route; an application 404 names the item.
  const routeMissing = response.status === 405 || (response.status === 404 && (op.kind === 'collection' || detail === 'Not Found' || detail === undefined));
  if (routeMissing) {
    throw new UnsupportedOperationError(`${host} does not support ${op.name} (${route} answered ${response.status})`);
  }
  switch (true) {
    case response.status === 401:
      throw new AuthError(401, `${host} refused the credentials for ${op.name}${said}`, {
        hint: 'check the admin key (GOVCTL_ADMIN_KEY, --admin-key or the context)',
      });
    case response.status === 403:
      throw new AuthError(403, `${host} refused ${op.name}${said}`);
    case response.status === 404:
      throw new NotFoundError(`${op.name}: not found on ${host}${said}`);
    case response.status === 409:
      throw new OperationFailedError(`${host} refused ${op.name}${said}`);
    case response.status === 400 || response.status === 413 || response.status === 422:
      throw new InvalidInputError(`${host} rejected ${op.name}${said}`);
    case response.status === 429:
      throw new ServerError(429, `${host} rate-limited ${op.name}${said}`, { hint: 'wait and try again' });
    default:
      throw new ServerError(response.status, `${host} failed ${op.name} (${route} answered HTTP ${response.status})${said}`);
  }
}
