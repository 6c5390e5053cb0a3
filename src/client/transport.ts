import { Agent, type Dispatcher } from 'undici';
import { UsageError } from '../core/errors.js';
import { redactCredentials } from '../core/url-credentials.js';

/**
 * The connection settings every request path shares: the admin client here, and the load
 * engine's own lean request loop. One place parses the URL (credentials out of it), builds the
 * undici dispatcher (timeouts, TLS) and the auth headers, so both paths trust the same things.
 */
export interface ConnectionSettings {
  baseUrl: string;
  /** Sent as a bearer token on requests that ask for admin auth. */
  adminKey?: string;
  /** Bounds each whole operation (connect, headers, body, retries), in milliseconds. */
  timeoutMs?: number;
  /** Connect timeout in milliseconds; defaults to the operation timeout. */
  connectTimeoutMs?: number;
  /** PEM of extra certificate authorities to trust. */
  caCert?: string;
  /** Skip TLS certificate verification (the cli warns loudly). */
  insecure?: boolean;
  /** Largest JSON/text body read into memory, in bytes (downloads stream to disk, unaffected). */
  maxBodyBytes?: number;
  /** Connections per origin the dispatcher may open (default undici's: unlimited). */
  connections?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ServerUrl {
  /** The URL requests go to, without user info. */
  url: URL;
  /** `http://host:port/path`, safe to print: credentials are never part of it. */
  display: string;
  /** True when the URL carried `user:pass@`: they are dropped, never sent or shown (govctl authenticates with keys). */
  hadCredentials: boolean;
}

/** Parses and checks a server URL; embedded credentials are taken out: never sent, never printed. */
export function parseServerUrl(text: string): ServerUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid server URL "${redactCredentials(text)}"`, { hint: 'use a full URL such as http://127.0.0.1:8080' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid server URL "${redactCredentials(text)}": only http and https are supported`);
  }
  const hadCredentials = url.username !== '' || url.password !== '';
  url.username = '';
  url.password = '';
  return { url, display: url.href.replace(/\/$/, ''), hadCredentials };
}

/**
 * The undici dispatcher for these settings. Headers and body timeouts bound each wait (the
 * whole-operation deadline is the caller's AbortSignal); TLS trusts `caCert` besides the system
 * roots, or nothing at all with `insecure`.
 */
export function createDispatcher(settings: ConnectionSettings): Dispatcher & { close(): Promise<void> } {
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Agent({
    connectTimeout: settings.connectTimeoutMs ?? timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(settings.connections !== undefined ? { connections: settings.connections } : {}),
    connect: {
      rejectUnauthorized: settings.insecure !== true,
      ...(settings.caCert !== undefined ? { ca: settings.caCert } : {}),
    },
  });
}

export type Auth = 'admin' | 'none' | { token: string };

/** The authorization header for `auth`: the admin key, a given token, or none. */
export function authHeaders(settings: Pick<ConnectionSettings, 'adminKey'>, auth: Auth): Record<string, string> {
  if (auth === 'admin') {
    if (!settings.adminKey) {
      throw new UsageError('this command needs an admin key', {
        hint: 'set GOVCTL_ADMIN_KEY, or configure a context with --admin-key-env or --admin-key-file',
      });
    }
    return { authorization: `Bearer ${checkedToken(settings.adminKey, 'the admin key')}` };
  }
  if (typeof auth === 'object') return { authorization: `Bearer ${checkedToken(auth.token, 'the API key')}` };
  return {};
}

/** A token that can go into a header: control characters or spaces are a usage error (the key is not shown). */
function checkedToken(token: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f-\x9f]/.test(token)) {
    throw new UsageError(`${what} contains spaces or control characters`, { hint: 'check for a stray newline or quote where the key is set' });
  }
  return token;
}
