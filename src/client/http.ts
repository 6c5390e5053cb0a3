import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { AuthError, GovctlError, InvalidInputError, NotFoundError, OperationFailedError, ServerError, UnreachableError } from '../core/errors.js';
import { visible } from '../core/visible-text.js';
import { ResponseTooLargeError, readLimited } from './body.js';
import { Deadline, formatMs } from './deadline.js';
import { NOT_HTTP, TlsError, toUnreachable } from './network-errors.js';
import { DEFAULT_RETRY, backoffMs, isIdempotent, isRetriableStatus, retryAfterMs, type RetryPolicy } from './retry.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  authHeaders,
  createDispatcher,
  parseServerUrl,
  type Auth,
  type ConnectionSettings,
} from './transport.js';

export interface HttpClientOptions extends ConnectionSettings {
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Told of each retry, so the cli can say why it waits. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** Told of each HTTP request (each attempt of a retried one) once it is answered or failed: for --verbose. */
  onTrace?: (trace: HttpTrace) => void;
  /**
   * Bounds every request of this client together, from its creation: a one-shot command that
   * sends several requests (list, then revoke) ends within its --timeout, not N times it.
   * Long-running work (load, chaos, logs --follow, downloads' bodies) does not set it.
   */
  wholeCommand?: boolean;
}

/** One request as a trace line may show it: never headers, bodies or credentials. */
export interface HttpTrace {
  method: string;
  /** Without user info; query values whose name suggests a secret are replaced by "***". */
  url: string;
  /** The answer's status; undefined when none came. */
  status?: number;
  /** Why no answer came (a govctl error message), when none did. */
  error?: string;
  /** Time to the full body (to the headers for a download), in milliseconds. */
  ms: number;
}

/** Query parameters never shown in a trace line, whatever the server calls them. */
const SECRET_PARAM = /(key|token|secret|pass(word)?|auth(orization)?|sig(nature)?|credentials?)$/i;

/** A request URL safe to print: no user info, and secret-looking query values masked. */
export function traceableUrl(url: URL): string {
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  for (const name of [...shown.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) shown.searchParams.set(name, '***');
  }
  return shown.href;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown;
  /** The body as received (UTF-8). */
  text: string;
  /** Time to the full body of the last attempt, in milliseconds. */
  ms: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** "admin" sends the admin key; an object sends that token. */
  auth?: Auth;
  /** Retry idempotent requests on connection errors, 429 and 502/503/504 (default true). */
  retry?: boolean;
  /** Accept header (default application/json). */
  accept?: string;
}

/** HTTP to one governance server over undici, with failures mapped to govctl's error model. */
export class HttpClient {
  readonly baseUrl: URL;
  /** The URL without credentials, safe to print. */
  readonly displayUrl: string;
  private readonly agent: ReturnType<typeof createDispatcher>;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  private readonly retryPolicy: RetryPolicy;
  /** performance.now() when the command's --timeout runs out (wholeCommand), else undefined. */
  private readonly commandEndsAt: number | undefined;

  constructor(private readonly options: HttpClientOptions) {
    const server = parseServerUrl(options.baseUrl);
    this.baseUrl = server.url;
    this.displayUrl = server.display;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.retryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    this.agent = createDispatcher({ ...options, timeoutMs: this.timeoutMs });
    this.commandEndsAt = options.wholeCommand ? performance.now() + this.timeoutMs : undefined;
  }

  /** One request's deadline: its own --timeout, or what is left of the command's. */
  private deadline(): Deadline {
    const left = this.commandEndsAt === undefined ? this.timeoutMs : Math.max(1, Math.ceil(this.commandEndsAt - performance.now()));
    return new Deadline(Math.min(this.timeoutMs, left), this.options.signal);
  }

  get host(): string {
    return this.baseUrl.host;
  }

  /** A request whose whole body is read (at most maxBodyBytes) within the timeout, retries included. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const deadline = this.deadline();
    try {
      return await this.withRetries(method, options, deadline, async () => {
        const started = performance.now();
        try {
          const response = await this.send(method, path, options, deadline.signal);
          const text = await this.readBody(response, method, path);
          const ms = performance.now() - started;
          this.trace(method, path, options, started, { status: response.statusCode });
          return { status: response.statusCode, headers: response.headers, body: parseBody(text), text, ms };
        } catch (err) {
          this.trace(method, path, options, started, { error: messageOf(this.mapNetworkError(err, deadline)) });
          throw err;
        }
      });
    } finally {
      deadline.clear();
    }
  }

  /**
   * A request whose body the caller streams (a download). The timeout bounds getting the answer;
   * the body may take longer but never stalls longer than the timeout between chunks. `consume`
   * runs only for a 2xx answer; any other answer is read and returned for the caller to map.
   * Network errors while `consume` reads are mapped like any other (exit 3).
   */
  async stream<T>(
    method: string,
    path: string,
    options: RequestOptions,
    consume: (response: Dispatcher.ResponseData) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; response: HttpResponse }> {
    const deadline = this.deadline();
    const started = performance.now();
    let response: Dispatcher.ResponseData;
    try {
      try {
        response = await this.send(method, path, options, deadline.signal);
      } catch (err) {
        this.trace(method, path, options, started, { error: messageOf(this.mapNetworkError(err, deadline)) });
        throw err;
      }
      this.trace(method, path, options, started, { status: response.statusCode });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const text = await this.readBody(response, method, path);
        return {
          ok: false,
          response: { status: response.statusCode, headers: response.headers, body: parseBody(text), text, ms: performance.now() - started },
        };
      }
    } catch (err) {
      throw this.mapNetworkError(err, deadline);
    } finally {
      deadline.clear();
    }
    try {
      return { ok: true, value: await consume(response) };
    } catch (err) {
      throw this.mapNetworkError(err, deadline);
    }
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

  private trace(method: string, path: string, options: RequestOptions, started: number, outcome: { status: number } | { error: string }): void {
    if (this.options.onTrace === undefined) return;
    this.options.onTrace({ method, url: traceableUrl(this.url(path, options.query)), ...outcome, ms: performance.now() - started });
  }

  private headers(options: RequestOptions): Record<string, string> {
    const headers: Record<string, string> = {
      accept: options.accept ?? 'application/json',
      'user-agent': 'govctl',
      ...authHeaders(this.options, options.auth ?? 'none'),
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  private send(method: string, path: string, options: RequestOptions, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    return request(this.url(path, options.query), {
      method: method as Dispatcher.HttpMethod,
      headers: this.headers(options),
      body: options.body === undefined ? null : JSON.stringify(options.body),
      dispatcher: this.agent,
      signal,
    });
  }

  private readBody(response: Dispatcher.ResponseData, method: string, path: string): Promise<string> {
    return readLimited(
      response.body,
      this.maxBodyBytes,
      response.headers['content-length'],
      () => new ResponseTooLargeError(response.statusCode, this.host, `${method} ${path}`, this.maxBodyBytes),
    );
  }

  private timedOut(deadline: Deadline, last?: string): UnreachableError {
    const why = last === undefined ? '' : ` (last attempt: ${last})`;
    const whole = this.commandEndsAt !== undefined && deadline.ms < this.timeoutMs;
    const within = whole ? `the command's --timeout of ${formatMs(this.timeoutMs)}` : formatMs(deadline.ms);
    return new UnreachableError(this.host, `timed out: no complete answer within ${within}${why}`, {
      hint: '--timeout bounds the whole command: each request, reading the answers and retries included',
    });
  }

  /** A network failure as an UnreachableError; the caller's own abort (Ctrl-C) passes unchanged. */
  private mapNetworkError(err: unknown, deadline: Deadline): unknown {
    if (err instanceof GovctlError) return err;
    if (deadline.expired) return this.timedOut(deadline);
    if (deadline.outer?.aborted) return err;
    return toUnreachable(err, this.host, this.timeoutMs) ?? err;
  }

  private async withRetries(method: string, options: RequestOptions, deadline: Deadline, attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
    const retriable = options.retry !== false && isIdempotent(method);
    for (let n = 0; ; n++) {
      let outcome: HttpResponse | undefined;
      let failure: unknown;
      try {
        outcome = await attempt();
      } catch (err) {
        failure = this.mapNetworkError(err, deadline);
      }
      const canRetry = retriable && n < this.retryPolicy.retries && !deadline.signal.aborted;
      if (outcome && (!canRetry || !isRetriableStatus(outcome.status))) return outcome;
      if (failure !== undefined && (!canRetry || !isTransient(failure))) throw failure;
      const after = outcome ? retryAfterMs(outcome.headers['retry-after']) : undefined;
      const delayMs = backoffMs(this.retryPolicy, n + 1, after);
      // A wait longer than allowed, or past the deadline, gives up with what we have.
      if ((after !== undefined && after > this.retryPolicy.maxDelayMs) || delayMs >= deadline.remainingMs) {
        if (outcome) return outcome;
        throw failure;
      }
      const reason = outcome ? `HTTP ${outcome.status}` : (failure as Error).message;
      this.options.onRetry?.({ attempt: n + 1, delayMs, reason });
      await sleep(delayMs, undefined, { signal: deadline.signal }).catch(() => undefined);
      if (deadline.expired) throw this.timedOut(deadline, reason);
      if (deadline.signal.aborted) {
        if (outcome) return outcome;
        throw failure;
      }
    }
  }
}

/** Refused, reset and timed-out connections may pass; DNS, TLS and non-HTTP answers will not. */
function isTransient(err: unknown): boolean {
  if (!(err instanceof GovctlError) || err.code !== 'GOVCTL_UNREACHABLE' || err instanceof TlsError) return false;
  return !/DNS lookup failed|timed out: no complete answer/.test(err.message) && !err.message.includes(NOT_HTTP);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The server's `detail`, whether a string or FastAPI's list of `{loc, msg}`, made safe to print. */
export function describeDetail(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === 'string') return visible(detail);
  if (Array.isArray(detail)) {
    return visible(
      detail
        .map((d: { loc?: unknown[]; msg?: string }) =>
          Array.isArray(d?.loc) ? `${d.loc.join('.')}: ${d.msg ?? 'invalid'}` : String(d?.msg ?? JSON.stringify(d)),
        )
        .join('; '),
    );
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

/** Throws the govctl error that an unsuccessful answer to `op` means. Server text is shown escaped. */
export function failFor(op: Operation, response: HttpResponse, host: string): never {
  const detail = describeDetail(response.body);
  const said = detail ? `: ${detail}` : '';
  const name = visible(op.name);
  const route = `${op.method} ${visible(op.path)}`;
  // A framework's own 404 ("Not Found") means no such route; an application 404 names the item.
  const routeMissing = response.status === 405 || (response.status === 404 && (op.kind === 'collection' || detail === 'Not Found' || detail === undefined));
  if (routeMissing) {
    throw new UnsupportedOperationError(`${host} does not support ${name} (${route} answered ${response.status})`);
  }
  switch (true) {
    case response.status === 401:
      throw new AuthError(401, `${host} refused the credentials for ${name}${said}`, {
        hint: 'check the admin key (GOVCTL_ADMIN_KEY, --admin-key or the context)',
      });
    case response.status === 403:
      throw new AuthError(403, `${host} refused ${name}${said}`);
    case response.status === 404:
      throw new NotFoundError(`${name}: not found on ${host}${said}`);
    case response.status === 409:
      throw new OperationFailedError(`${host} refused ${name}${said}`);
    case response.status === 400 || response.status === 413 || response.status === 422:
      throw new InvalidInputError(`${host} rejected ${name}${said}`);
    case response.status === 429:
      throw new ServerError(429, `${host} rate-limited ${name}${said}`, { hint: 'wait and try again' });
    default:
      throw new ServerError(response.status, `${host} failed ${name} (${route} answered HTTP ${response.status})${said}`);
  }
}
