import { randomUUID } from 'node:crypto';
import type { GovernanceClient, LogQuery } from '../client/governance-client.js';
import { UnsupportedOperationError } from '../client/http.js';
import type { LogPage } from '../client/shapes.js';
import { AuthError, InvalidInputError, UsageError, messageOf } from '../core/errors.js';
import type { LoadReportData, MeasuredOr } from './types.js';

/**
 * Audit accounting: did every decision the server acknowledged (a 200) reach its usage log?
 * The run's decisions are counted by key in the admin logs API. Where the server gives no way
 * to count, the answer is "not measured" with the reason, never 0.
 */

export type CountMethod = 'key_filter' | 'window_scan';
export type LoggedCount = MeasuredOr<{ logged: number; method: CountMethod }>;

export interface CountOptions {
  /** The key ids whose decisions are counted (the run's keys). */
  keyIds: string[];
  /** The run's window; widened by CLOCK_ALLOWANCE_MS on both sides for the server's clock. */
  since: Date;
  until: Date;
  signal?: AbortSignal;
  /** Window scan: the most pages of 100 entries read before giving up (default 2000). */
  maxPages?: number;
}

/**
 * How far the server's clock may be from ours. Widening the window costs nothing: entries are
 * matched by the run's keys, so other keys' entries inside it are not counted.
 */
export const CLOCK_ALLOWANCE_MS = 5_000;
const DEFAULT_MAX_PAGES = 2_000;
const PAGE_SIZE = 100;
const NO_WAY = 'the server offers no way to count';

class Interrupted extends Error {}

/** The number of usage-log entries of `keyIds` in the window, by key filter or else by a window scan. */
export async function countLoggedDecisions(client: GovernanceClient, options: CountOptions): Promise<LoggedCount> {
  const { keyIds, signal } = options;
  if (keyIds.length === 0) return notMeasured('no API key ids to look for in the usage log');
  const window = {
    since: new Date(options.since.getTime() - CLOCK_ALLOWANCE_MS).toISOString(),
    until: new Date(options.until.getTime() + CLOCK_ALLOWANCE_MS).toISOString(),
  };
  const read = (query: Omit<LogQuery, 'since' | 'until'>) => abortable(client.logs({ ...query, ...window }), signal);
  try {
    const filtered = await tryKeyFilter(read, keyIds);
    if (filtered !== undefined) return filtered;
    return await scanWindow(read, new Set(keyIds), options.maxPages ?? DEFAULT_MAX_PAGES);
  } catch (err) {
    return notMeasured(whyNot(err));
  }
}

type Read = (query: Omit<LogQuery, 'since' | 'until'>) => Promise<LogPage>;

/**
 * Counts with `key_id=` (govctl serve's extension): `total` per key. First checks that the server
 * honours the filter: a page of the first key holds only that key's entries, and a key that
 * cannot exist counts 0. Undefined when it does not (the caller scans the window instead).
 */
async function tryKeyFilter(read: Read, keyIds: string[]): Promise<LoggedCount | undefined> {
  let first: LogPage;
  try {
    first = await read({ page: 1, pageSize: PAGE_SIZE, keyId: keyIds[0]! });
  } catch (err) {
    // A server that refuses the unknown parameter still lists the window.
    if (err instanceof InvalidInputError) return undefined;
    throw err;
  }
  if (first.logs.some((entry) => entry.key_id === null)) return missingKeyIds();
  if (first.total === null || first.logs.some((entry) => entry.key_id !== keyIds[0])) return undefined;
  const nobody = await read({ page: 1, pageSize: 1, keyId: `govctl-no-such-key-${randomUUID()}` });
  if (nobody.total !== 0) return undefined;
  let logged = first.total;
  for (const keyId of keyIds.slice(1)) {
    const page = await read({ page: 1, pageSize: 1, keyId });
    if (page.total === null) return undefined;
    if (page.logs.some((entry) => entry.key_id !== keyId)) return undefined;
    logged += page.total;
  }
  // Nothing at all under our keys: make sure the log names keys the way we do (the scan says
  // "not measured" for entries without key_id) before publishing a 0.
  if (logged === 0) return undefined;
  return { status: 'measured', logged, method: 'key_filter' };
}

/**
 * Pages through the window counting our keys' entries. Entries are told apart by id, so one that
 * moves to the next page while we read (newer entries pushing it down) is not counted twice.
 */
async function scanWindow(read: Read, keyIds: Set<string>, maxPages: number): Promise<LoggedCount> {
  const seen = new Set<string>();
  let logged = 0;
  for (let page = 1; ; page++) {
    if (page > maxPages) {
      return notMeasured(
        `the server ignores the key_id filter, and the run's window holds more than ${maxPages} pages of ${PAGE_SIZE} log entries (the most read)`,
      );
    }
    const answer = await read({ page, pageSize: PAGE_SIZE });
    for (const entry of answer.logs) {
      if (entry.key_id === null) return missingKeyIds();
      if (!keyIds.has(entry.key_id)) continue;
      if (entry.id !== null) {
        if (seen.has(entry.id)) continue;
        seen.add(entry.id);
      }
      logged++;
    }
    const last = answer.total_pages !== null ? page >= answer.total_pages : answer.logs.length < PAGE_SIZE;
    if (last || answer.logs.length === 0) return { status: 'measured', logged, method: 'window_scan' };
  }
}

/** The report's audit section: acknowledged decisions against those the log holds. */
export function auditAccounting(acknowledged: number, counted: LoggedCount): LoadReportData['audit'] {
  if (counted.status === 'not_measured') return counted;
  // More logged than acknowledged happens when a request timed out on our side after the server
  // committed it (or someone else used a provided key): none of ours was lost then.
  return { status: 'measured', acknowledged, logged: counted.logged, lost: Math.max(0, acknowledged - counted.logged), method: counted.method };
}

function notMeasured(reason: string): LoggedCount {
  return { status: 'not_measured', reason };
}

function missingKeyIds(): LoggedCount {
  return notMeasured(`${NO_WAY}: its usage log entries carry no key_id`);
}

export function whyNot(err: unknown): string {
  if (err instanceof Interrupted) return 'interrupted while counting the usage log';
  if (err instanceof UnsupportedOperationError) return `${NO_WAY}: it has no admin logs route (${err.message})`;
  if (err instanceof AuthError) return `the usage log could not be read: the admin key was refused (HTTP ${err.status})`;
  if (err instanceof UsageError && /admin key/.test(err.message)) return 'the usage log could not be read: no admin key';
  return `the usage log could not be read: ${messageOf(err)}`;
}

/** Rejects with Interrupted as soon as `signal` fires (the request itself ends by its own timeout). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new Interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
