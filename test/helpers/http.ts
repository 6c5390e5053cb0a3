import { request } from 'undici';

export interface Answer<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, for malformed bodies. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/** One real HTTP request to a test server; the body is parsed when it is JSON. */
export async function call<T = any>(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | Buffer | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  } else if (options.raw !== undefined) {
    headers['content-type'] ??= 'application/json';
  }
  const response = await request(`${base}${path}`, { method: method as 'GET', headers, body: body ?? null });
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.statusCode, headers: response.headers, body: parsed as T, text };
}

/** Creates an API key through the admin API and returns its token. */
export async function createKey(base: string, adminToken: string, name = 'test', role: 'user' | 'admin' = 'user'): Promise<string> {
  const answer = await call(base, 'POST', '/api/admin/keys', { token: adminToken, body: { name, role } });
  if (answer.status !== 201) throw new Error(`key creation failed: ${answer.status} ${answer.text}`);
  return answer.body.api_key as string;
}
