import { Agent, request } from 'undici';
import { AuthError, InvalidInputError, NotFoundError, ServerError, UsageError } from '../core/errors.js';
import { toUnreachable } from './network-errors.js';

export interface HttpClientOptions {
  baseUrl: string;
  /** Sent as a bearer token on requests that ask for admin auth. */
  adminKey?: string;
  /** Connect and response timeout in milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown;
  /** Time to the full body, in milliseconds. */
  ms: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** "admin" sends the admin key; a string is sent as the bearer token. */
  auth?: 'admin' | 'none' | { token: string };
}

/** HTTP to one governance server over undici, with failures mapped to govctl's error model. */
export class HttpClient {
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly timeoutMs: number;

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
    this.agent = new Agent({
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  get host(): string {
    return this.baseUrl.host;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(path.replace(/^\//, ''), this.baseUrl.href.endsWith('/') ? this.baseUrl : `${this.baseUrl.href}/`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
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
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    try {
      const response = await request(url, {
        method: method as 'GET',
        headers,
        body: payload ?? null,
        dispatcher: this.agent,
        signal: this.options.signal ?? null,
      });
      const text = await response.body.text();
      const ms = performance.now() - started;
      return { status: response.statusCode, headers: response.headers, body: parseBody(text), ms };
    } catch (err) {
      throw toUnreachable(err, this.host, this.timeoutMs) ?? err;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
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

/** Throws the govctl error that an unsuccessful answer to `operation` means. */
export function failFor(operation: string, response: HttpResponse, host: string): never {
  const detail = describeDetail(response.body);
  const said = detail ? `: ${detail}` : '';
  switch (true) {
    case response.status === 401:
      throw new AuthError(401, `${host} refused the credentials for ${operation}${said}`, {
        hint: 'check the admin key (GOVCTL_ADMIN_KEY, --admin-key or the context)',
      });
    case response.status === 403:
      throw new AuthError(403, `${host} refused ${operation}${said}`);
    case response.status === 404:
      throw new NotFoundError(`${operation}: not found on ${host}${said}`);
    case response.status === 422 || response.status === 400:
      throw new InvalidInputError(`${host} rejected ${operation}${said}`);
    default:
      throw new ServerError(response.status, `${host} failed ${operation} (HTTP ${response.status})${said}`);
  }
}
