import type { Readable } from 'node:stream';
import { request } from 'undici';
import { toUnreachable } from '../../client/network-errors.js';
import { createDispatcher, type ConnectionSettings } from '../../client/transport.js';
import { UnreachableError } from '../../core/errors.js';

/** One request a probe sent and what came back (or why nothing did). */
export interface Exchange {
  method: string;
  /** Path and query, without host: what fingerprints use. */
  path: string;
  /** The full URL, without credentials. */
  url: string;
  /** Request headers as sent (secrets are redacted only when shown: see evidence.ts). */
  requestHeaders: Record<string, string>;
  /** A short description of the body sent ("JSON {...}", "1.1 MiB string"), when one was. */
  bodyNote?: string;
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  /** The start of the body (at most KEEP_BYTES), as UTF-8. */
  text: string;
  /** Why no answer came, when none did. */
  error?: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  bodyNote?: string;
}

/** The request budget ran out: the probe that asked stops, later ones are skipped. */
export class BudgetExhaustedError extends Error {
  constructor(readonly budget: number) {
    super(`request budget of ${budget} exhausted`);
  }
}

/** Kept of each answer: enough for an evidence excerpt and the leak scan, bounded in memory. */
const KEEP_BYTES = 16 * 1024;
/** Network failures in a row after which the server is taken to be gone. */
const MAX_CONSECUTIVE_FAILURES = 3;

/**
 * Sends the probes' raw requests (custom headers, malformed bodies) over the client's
 * dispatcher, counts every request against one budget (the GovernanceClient's calls reserve
 * theirs here too) and keeps each exchange for the passive checks (leaks, headers).
 */
export class Requester {
  readonly exchanges: Exchange[] = [];
  private sent = 0;
  /** Requests held back for cleanup (revoking the probe key) even when probes use up the rest. */
  private reserved = 0;
  private failuresInARow = 0;
  private readonly agent: ReturnType<typeof createDispatcher>;
  readonly timeoutMs: number;

  constructor(
    private readonly base: URL,
    settings: ConnectionSettings,
    readonly budget: number,
    private readonly signal?: AbortSignal,
  ) {
    this.timeoutMs = settings.timeoutMs ?? 10_000;
    this.agent = createDispatcher(settings);
  }

  get requests(): number {
    return this.sent;
  }

  get remaining(): number {
    return Math.max(0, this.budget - this.reserved - this.sent);
  }

  get host(): string {
    return this.base.host;
  }

  /** Counts one request about to be sent; throws when the budget (less the reserve) is spent. */
  take(cleanup = false): void {
    if (cleanup) {
      if (this.reserved > 0) this.reserved -= 1;
      else if (this.sent >= this.budget) throw new BudgetExhaustedError(this.budget);
    } else if (this.remaining <= 0) {
      throw new BudgetExhaustedError(this.budget);
    }
    this.sent += 1;
  }

  /** Holds `n` requests back for cleanup, when the budget still has them. */
  reserve(n: number): boolean {
    if (this.remaining < n) return false;
    this.reserved += n;
    return true;
  }

  urlOf(path: string): string {
    const base = this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`;
    return new URL(path.replace(/^\//, ''), base).href;
  }

  /**
   * One request, answered or not: a network failure is an exchange with `error` (a probe that
   * makes a server drop the connection has learnt something), until several in a row say the
   * server is gone (UnreachableError). The caller's abort passes through as thrown.
   */
  async send(req: RawRequest): Promise<Exchange> {
    this.take();
    const url = this.urlOf(req.path);
    const headers = { 'user-agent': 'govctl-audit', ...req.headers };
    const exchange: Exchange = { method: req.method, path: req.path, url, requestHeaders: headers, headers: {}, text: '' };
    if (req.bodyNote !== undefined) exchange.bodyNote = req.bodyNote;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = this.signal ? AbortSignal.any([timeout, this.signal]) : timeout;
    try {
      const response = await request(url, {
        method: req.method as 'GET',
        headers,
        body: req.body ?? null,
        dispatcher: this.agent,
        signal,
      });
      exchange.status = response.statusCode;
      exchange.headers = response.headers;
      exchange.text = await readStart(response.body);
      this.failuresInARow = 0;
    } catch (err) {
      if (this.signal?.aborted) throw err;
      const cause = timeout.aborted
        ? `timed out: no answer within ${this.timeoutMs} ms`
        : (toUnreachable(err, this.host, this.timeoutMs)?.message.replace(/^cannot reach [^:]+: /, '') ?? (err as Error).message);
      exchange.error = cause;
      this.failuresInARow += 1;
      if (this.failuresInARow >= MAX_CONSECUTIVE_FAILURES) {
        this.exchanges.push(exchange);
        throw new UnreachableError(this.host, `${cause} (${MAX_CONSECUTIVE_FAILURES} probe requests in a row got no answer)`);
      }
    }
    this.exchanges.push(exchange);
    return exchange;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The first KEEP_BYTES of a body; past that the body is dropped (an endless answer costs no more). */
async function readStart(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= KEEP_BYTES) {
      body.on('error', () => undefined);
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, KEEP_BYTES).toString('utf8');
}

/** A header's value as one string (the first of several), or undefined. */
export function headerOf(exchange: Pick<Exchange, 'headers'>, name: string): string | undefined {
  const value = exchange.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
