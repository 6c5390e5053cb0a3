import type { GovernanceClient, LogQuery } from '../client/governance-client.js';
import type { LogPage } from '../client/shapes.js';
import { InvalidInputError } from '../core/errors.js';
import { CLOCK_ALLOWANCE_MS, abortable, whyNot } from '../load/audit-accounting.js';
import type { MeasuredOr } from './types.js';

/**
 * Acknowledged-data accounting for chaos: every decision the server acknowledged with a 200
 * must be in its usage log, matched by decision_id (a log entry's `id`). Pages through the
 * window, by key (`key_id`, govctl serve's extension) when the server honours it, else the
 * whole window; stops as soon as every id was found. Where the server gives no way to check
 * (no admin key, no logs route, entries or answers without ids, too many pages), the answer is
 * "not measured" with the reason, never 0 lost.
 */

export type RecordsResult = MeasuredOr<{ acknowledged: number; lost: number; lost_ids: string[] }>;

export interface RecordsOptions {
  /** The acknowledged decisions (ids and wall times) to look for. */
  decisions: Array<{ id: string; t: number }>;
  /** 200s that carried no decision_id: when every acknowledgement was such, nothing can be checked. */
  acknowledgedWithoutId?: number;
  /** The window the decisions were made in; widened by CLOCK_ALLOWANCE_MS on both sides. */
  since: Date;
  until: Date;
  /** The keys the decisions were made with: pages only their entries when the server filters by key. */
  keyIds?: string[];
  signal?: AbortSignal;
  /** The most pages of 100 entries read in all (default 500). */
  maxPages?: number;
}

/** lost_ids lists at most this many. */
export const MAX_LOST_IDS = 20;
const PAGE_SIZE = 100;
const DEFAULT_MAX_PAGES = 500;

class PageLimit extends Error {}
class NoIds extends Error {}

export async function checkAcknowledgedRecords(client: GovernanceClient, options: RecordsOptions): Promise<RecordsResult> {
  const wanted = new Set(options.decisions.map((d) => d.id));
  const withoutId = options.acknowledgedWithoutId ?? 0;
  if (wanted.size === 0) {
    if (withoutId > 0) {
      return notMeasured(`the server acknowledged ${withoutId} decision${withoutId === 1 ? '' : 's'} without a decision_id: nothing to look up in its usage log`);
    }
    return { status: 'measured', acknowledged: 0, lost: 0, lost_ids: [] };
  }
  const window = {
    since: new Date(options.since.getTime() - CLOCK_ALLOWANCE_MS).toISOString(),
    until: new Date(options.until.getTime() + CLOCK_ALLOWANCE_MS).toISOString(),
  };
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  let pagesRead = 0;
  const read = async (query: Omit<LogQuery, 'since' | 'until' | 'pageSize'>): Promise<LogPage> => {
    if (pagesRead >= maxPages) throw new PageLimit();
    pagesRead++;
    return abortable(client.logs({ ...query, pageSize: PAGE_SIZE, ...window }), options.signal);
  };

  const found = new Set<string>();
  const done = () => found.size === wanted.size;
  try {
    let filtered = (options.keyIds?.length ?? 0) > 0;
    for (const keyId of options.keyIds ?? []) {
      if (done()) break;
      filtered = await scan(read, wanted, found, keyId);
      if (!filtered) break;
    }
    if (!filtered && !done()) await scan(read, wanted, found, undefined);
  } catch (err) {
    if (err instanceof PageLimit) {
      return notMeasured(`the usage log holds more than ${maxPages} pages of ${PAGE_SIZE} entries in the window (the most read)`);
    }
    if (err instanceof NoIds) return notMeasured('the server offers no way to check: its usage log entries carry no id (decision_id)');
    return notMeasured(whyNot(err));
  }
  const lost = [...wanted].filter((id) => !found.has(id));
  return { status: 'measured', acknowledged: wanted.size, lost: lost.length, lost_ids: lost.slice(0, MAX_LOST_IDS) };
}

type Read = (query: Omit<LogQuery, 'since' | 'until' | 'pageSize'>) => Promise<LogPage>;

/**
 * Pages through the window (of `keyId` when given), adding the wanted ids it meets to `found`.
 * With a key: false as soon as an entry of another key shows the server ignores the filter (or
 * refuses it), so the caller scans the whole window instead. Entries pushed to a later page by
 * newer ones are met twice, which a Set does not mind.
 */
async function scan(read: Read, wanted: Set<string>, found: Set<string>, keyId: string | undefined): Promise<boolean> {
  for (let page = 1; ; page++) {
    let answer: LogPage;
    try {
      answer = await read({ page, ...(keyId !== undefined ? { keyId } : {}) });
    } catch (err) {
      // A server that refuses the unknown parameter still lists the window.
      if (keyId !== undefined && page === 1 && err instanceof InvalidInputError) return false;
      throw err;
    }
    for (const entry of answer.logs) {
      if (entry.id === null) throw new NoIds();
      if (keyId !== undefined && entry.key_id !== keyId) return false;
      if (wanted.has(entry.id)) found.add(entry.id);
    }
    if (found.size === wanted.size) return true;
    const last = answer.total_pages !== null ? page >= answer.total_pages : answer.logs.length < PAGE_SIZE;
    if (last || answer.logs.length === 0) return true;
  }
}

function notMeasured(reason: string): RecordsResult {
  return { status: 'not_measured', reason };
}
