import type { HealthReport } from '../../client/governance-client.js';
import { AuthError, ExitCode, InterruptedError, isGovctlError, type GovctlError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, styled, type Cell } from '../render/output.js';
import { formatMs, formatUptime, renderValue } from '../render/units.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export interface HealthFlags {
  detailed?: boolean;
}

/** "not checked": the health check itself failed first. */
type AdminCheck = 'ok' | 'refused' | 'not configured' | 'not checked';

/** The error of an outcome, as scripts read it in `-o json`. */
interface OutcomeError {
  code: string;
  message: string;
}

/** What `health -o json` says when the server gave no health answer at all (unreachable, TLS, ...). */
const NO_ANSWER = { status: null, healthy: false, reason: null, http_status: null, version: null, uptime_s: null, latency_ms: null, deviations: [] };

/**
 * Checks /health (and the admin key, when one is configured). `-o json` writes one document on
 * stdout for every outcome, failures included ({"healthy": false, "error": {code, message}}), while
 * the error line still goes to stderr and the exit code still says what happened.
 */
export async function healthCommand(app: CliApp, options: { detailed: boolean }): Promise<number> {
  const { client, target } = await adminClient(app, 'read');
  const where = { target: target.kind };
  let admin: AdminCheck = target.adminKey === undefined ? 'not configured' : 'not checked';

  let health: HealthReport;
  try {
    health = await client.health(options.detailed);
  } catch (err) {
    if (app.json && reportable(app, err)) {
      app.printAdminJson(client.url, { ...where, ...NO_ANSWER, admin_key: admin, error: outcomeError(err) });
    }
    throw err;
  }

  let adminError: GovctlError | undefined;
  if (target.adminKey !== undefined) {
    try {
      await client.checkAdminAccess();
      admin = 'ok';
    } catch (err) {
      // A refused key is a row of the report; anything else (a server error, Ctrl-C) ends the check.
      if (!(err instanceof AuthError)) {
        if (app.json && reportable(app, err)) app.printAdminJson(client.url, { ...where, ...health, healthy: false, admin_key: admin, error: outcomeError(err) });
        throw err;
      }
      admin = 'refused';
      adminError = err;
    }
  }

  if (app.json) {
    const error = adminError ? outcomeError(adminError) : health.healthy ? null : { code: 'GOVCTL_UNHEALTHY', message: health.reason ?? 'the server is not healthy' };
    app.printAdminJson(client.url, { ...where, ...health, healthy: health.healthy && adminError === undefined, admin_key: admin, error });
  } else {
    app.print(render(app, client.url, target.kind, health, admin, adminError));
  }
  if (adminError) throw adminError;
  return health.healthy ? ExitCode.ok : ExitCode.failed;
}

/** A failure scripts get a document for: govctl's own errors, but not Ctrl-C (its one line is the whole story). */
function reportable(app: CliApp, err: unknown): err is GovctlError {
  return isGovctlError(err) && !(err instanceof InterruptedError) && !app.signal.aborted;
}

function outcomeError(err: GovctlError): OutcomeError {
  return { code: err.code, message: err.message };
}

/** "refused (HTTP 401: Invalid API key)": the status, and the server's own words when it gave some. */
function refusedText(err: AuthError): string {
  // The message ends with the server's detail after the operation's name, "…(listing policies): DETAIL".
  const detail = /\): (.+)$/.exec(err.message)?.[1];
  return `refused (HTTP ${err.status}${detail ? `: ${detail}` : ''})`;
}

function render(app: CliApp, url: string, kind: string, health: HealthReport, admin: AdminCheck, adminError: GovctlError | undefined): string {
  const s = app.style;
  // A status the server did not give is not made up: the reason row says what came instead.
  const said = health.status === null ? 'unhealthy' : visible(health.status);
  const status = health.healthy ? s.green(said) : s.red(said);
  const adminRow: Cell = adminError instanceof AuthError ? styled(s.red(visible(refusedText(adminError)))) : admin;
  const rows: Array<[string, Cell]> = [
    ['status', styled(`${status} (HTTP ${health.http_status})`)],
    ...(health.reason !== null ? ([['reason', health.reason]] as Array<[string, Cell]>) : []),
    // Which configuration was used, so a check of the wrong server is seen at once.
    ['context', app.contextName ?? (kind === 'embedded' ? 'none (embedded server)' : 'none (--url or GOVCTL_URL)')],
    ['url', `${url}${kind === 'embedded' ? ' (embedded)' : ''}`],
    ['version', health.version],
    ['uptime', health.uptime_s === null ? null : formatUptime(health.uptime_s)],
    ['latency', formatMs(health.latency_ms)],
    ['admin key', adminRow],
  ];
  for (const [name, value] of Object.entries(health.components ?? {})) {
    rows.push([`  ${visible(name)}`, renderValue(value)]);
  }
  return renderKeyValues(rows, s, { width: app.tableWidth });
}
