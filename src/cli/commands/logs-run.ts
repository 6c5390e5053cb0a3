import { setTimeout as sleep } from 'node:timers/promises';
import type { GovernanceClient, LogQuery } from '../../client/governance-client.js';
import { UnsupportedOperationError } from '../../client/http.js';
import type { ApiKeyInfo, LogEntry } from '../../client/shapes.js';
import { parseDuration } from '../../core/duration.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { renderTable, styled, type Cell } from '../render/output.js';
import { shortTime } from '../render/time.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';
import { resolveKey } from './keys-run.js';

export interface LogsFlags {
  model?: string;
  allowed?: boolean;
  blocked?: boolean;
  since?: string;
  until?: string;
  limit: string;
  page: string;
  follow?: boolean;
  interval: string;
  /** A key id or a unique key name. */
  key?: string;
  reason?: string;
}

const SERVER_MAX_PAGE = 100;

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || !Number.isSafeInteger(n)) throw new UsageError(`invalid ${flag} "${text}": use a whole number >= 1`);
  return n;
}

/** An ISO instant from "1h"-style ages (that long ago) or an ISO 8601 date-time. */
export function parseWhen(text: string, flag: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(text.trim())) return new Date(now - parseDuration(text, flag)).toISOString();
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`invalid ${flag} "${text}": use an age such as 30m, 1h, 2d, or an ISO 8601 date-time`);
  return new Date(ms).toISOString();
}

type Filters = Omit<LogQuery, 'page' | 'pageSize'>;

function filtersFrom(flags: LogsFlags): Filters {
  if (flags.allowed && flags.blocked) throw new UsageError('--allowed and --blocked exclude each other; give one or neither');
  return {
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.allowed ? { outcome: 'allowed' as const } : flags.blocked ? { outcome: 'blocked' as const } : {}),
    ...(flags.since !== undefined ? { since: parseWhen(flags.since, '--since') } : {}),
    ...(flags.until !== undefined ? { until: parseWhen(flags.until, '--until') } : {}),
    ...(flags.reason !== undefined ? { reason: checkReason(flags.reason) } : {}),
  };
}

/** The shape govctl serve accepts for ?reason= (ok, external_model, …): a typo fails here, not as a 422. */
function checkReason(reason: string): string {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(reason)) {
    throw new UsageError(`invalid --reason "${visible(reason)}": use a decision reason such as ok, external_model or contains_personal_data`);
  }
  return reason;
}

/**
 * --key as a key id: an id is used as is, a name is looked up in the key list (it must name
 * one key). A server whose key list cannot be read gets the text as an id.
 */
async function keyIdFor(client: GovernanceClient, ref: string): Promise<string> {
  let keys: ApiKeyInfo[];
  try {
    keys = await client.listKeys();
  } catch (err) {
    if (err instanceof UnsupportedOperationError) return ref;
    throw err;
  }
  return resolveKey(keys, ref).key_id ?? ref;
}

/**
 * Entries [offset, offset + limit) newest first, fetched in server pages of at most 100.
 * When limit fits a server page, pages line up with ours and one request does.
 */
async function fetchWindow(client: GovernanceClient, filters: Filters, offset: number, limit: number): Promise<{ logs: LogEntry[]; total: number | null }> {
  const size = limit <= SERVER_MAX_PAGE ? limit : SERVER_MAX_PAGE;
  const first = Math.floor(offset / size) + 1;
  const last = Math.floor((offset + limit - 1) / size) + 1;
  const logs: LogEntry[] = [];
  let total: number | null = null;
  for (let page = first; page <= last; page++) {
    const result = await client.logs({ ...filters, page, pageSize: size });
    total = result.total;
    logs.push(...result.logs);
    if (result.logs.length < size) break;
  }
  const skip = offset - (first - 1) * size;
  return { logs: logs.slice(skip, skip + limit), total };
}

const HEAD = ['TIME', 'ID', 'DECISION', 'MODEL', 'OPERATION', 'RISK', 'REASON', 'KEY', 'LATENCY'];

function cells(app: CliApp, logs: LogEntry[]): Cell[][] {
  const s = app.style;
  return logs.map((l) => [
      shortTime(l.timestamp),
      l.id,
      l.allowed === null ? null : styled(l.allowed ? s.green('allowed') : s.red('blocked')),
      l.model,
      l.operation,
      l.risk_score,
      l.reason,
      l.api_key_name ?? l.key_id,
      l.latency_ms === null ? null : `${l.latency_ms.toFixed(1)} ms`,
    ]);
}

function table(app: CliApp, logs: LogEntry[]): string {
  return renderTable(HEAD, cells(app, logs), app.style, { width: app.tableWidth });
}

/**
 * The table of `logs --follow`: the header once, then rows as they arrive. Plain cells are
 * padded to the widest seen so far, so later batches line up with earlier ones (until a longer
 * value arrives).
 */
class FollowTable {
  private readonly widths = HEAD.map((h) => h.length);
  private printedHead = false;

  constructor(private readonly app: CliApp) {}

  render(logs: LogEntry[]): string {
    const rows = cells(this.app, logs).map((row) =>
      row.map((cell, i) => {
        if (typeof cell !== 'string') return cell;
        // Measured as the table will show it (control characters escaped); padded as sent.
        const width = visible(cell).length;
        this.widths[i] = Math.max(this.widths[i]!, width);
        return cell + ' '.repeat(this.widths[i]! - width);
      }),
    );
    const head = HEAD.map((h, i) => h.padEnd(this.widths[i]!));
    const text = renderTable(head, rows, this.app.style, { width: this.app.tableWidth });
    if (this.printedHead) return text.slice(text.indexOf('\n') + 1);
    this.printedHead = true;
    return text;
  }
}

export async function logsCommand(app: CliApp, flags: LogsFlags): Promise<number> {
  const limit = positiveInt(flags.limit, '--limit');
  const page = positiveInt(flags.page, '--page');
  const filters: Filters = filtersFrom(flags);
  const intervalMs = parseDuration(flags.interval, '--interval');
  // --follow runs until Ctrl-C: --timeout bounds each poll, not the whole command.
  const { client } = await adminClient(app, 'admin', { wholeCommand: flags.follow !== true });
  if (flags.key !== undefined) filters.keyId = await keyIdFor(client, flags.key);

  if (flags.follow) return follow(app, client, filters, limit, intervalMs);

  const { logs, total } = await fetchWindow(client, filters, (page - 1) * limit, limit);
  // The server's total, when it says one; pages are counted only from a known total.
  const totalPages = total === null ? null : Math.ceil(total / limit);
  if (app.json) {
    app.printAdminJson(client.url, { logs, total, page, limit, total_pages: totalPages });
  } else if (logs.length === 0) {
    app.print(total === 0 || (total === null && page === 1) ? 'no log entries match' : `page ${page} is past the end (${total ?? 'an unknown number of'} entries)`);
  } else {
    app.print(table(app, logs));
    app.info(total === null ? `${logs.length} entries (page ${page}; the server did not say how many in all)` : `${logs.length} of ${total} entries (page ${page} of ${totalPages})`);
  }
  return ExitCode.ok;
}

/** Prints the newest `limit` entries, then new ones as they arrive, oldest first, until Ctrl-C. */
async function follow(app: CliApp, client: GovernanceClient, filters: Filters, limit: number, intervalMs: number): Promise<number> {
  const rendered = new FollowTable(app);
  const print = (entries: LogEntry[]) => {
    if (entries.length === 0) return;
    const oldestFirst = [...entries].reverse();
    // One JSON object a line (a stream: no context/url wrapper); control characters JSON leaves
    // raw (DEL, C1, separators) escaped too.
    if (app.json) for (const e of oldestFirst) app.print(jsonLine(e));
    else app.print(rendered.render(oldestFirst));
  };
  const initial = (await fetchWindow(client, filters, 0, limit)).logs;
  print(initial);
  // The ids of the newest page printed: entries that drop off it never come back to page 1.
  let known = new Set(initial.map(identity));
  app.info('following the usage log; Ctrl-C to stop');
  while (!app.signal.aborted) {
    await sleep(intervalMs, undefined, { signal: app.signal }).catch(() => undefined);
    if (app.signal.aborted) break;
    const fresh: LogEntry[] = [];
    // Page back until a known entry shows up, so a burst larger than one page is not skipped.
    for (let page = 1; page <= 50; page++) {
      const { logs } = await client.logs({ ...filters, page, pageSize: SERVER_MAX_PAGE });
      const cut = logs.findIndex((e) => known.has(identity(e)));
      fresh.push(...(cut === -1 ? logs : logs.slice(0, cut)));
      if (cut !== -1 || logs.length < SERVER_MAX_PAGE || known.size === 0) break;
    }
    print(fresh);
    if (fresh.length > 0) known = new Set(fresh.slice(0, SERVER_MAX_PAGE).map(identity));
  }
  return ExitCode.ok;
}

/** An entry's identity for --follow: its id, or (a server without ids) the whole entry. */
function identity(e: LogEntry): string {
  return e.id ?? JSON.stringify(e);
}

// eslint-disable-next-line no-control-regex
const JSON_UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON on one line, with every character a terminal could act on escaped as \uXXXX. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
